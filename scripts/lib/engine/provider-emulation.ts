/**
 * High-fidelity emulation of the providers this program uses, for Pulumi's mock runtime: real random
 * strings of the requested length and alphabet, real key generation, Kubernetes auto-naming, and
 * secret marking of every output the real provider marks secret (`additionalSecretOutputs`).
 */
import * as crypto from "node:crypto";
import { ecKeyPairFrom, ed25519KeyPairFrom, type Entropy, type GeneratedMaterial, RANDOM_MATERIAL, rsaKeyPairFrom, uuidFrom } from "./generated-material";
import { SECRET_KEY, unwrapSecrets } from "../../../domain/secret-values";
import { x509 as x509Lib } from "./x509";

/** What the engine asks a provider to create. */
export interface EmulatedRequest {
    /** Resource type token, e.g. `random:index/randomPassword:RandomPassword`. */
    type: string;
    /** The resource's logical name. */
    name: string;
    /** Inputs as the SDK sent them (secret inputs still marked). */
    inputs: Record<string, unknown>;
    /** False for component resources. */
    custom: boolean;
    /** Outputs the SDK asks the engine to hold as secrets. */
    secretOutputs: readonly string[];
    /** Where generated values come from (default: real randomness); seeded for a reproducible render. */
    material?: GeneratedMaterial;
}

export interface EmulatedResult {
    /** Provider-assigned id (custom resources only). */
    id?: string;
    /** Output properties; secrets as `{ "$secret": value }`. */
    state: Record<string, unknown>;
}

type Emulator = (inputs: Record<string, unknown>, req: EmulatedRequest) => EmulatedResult;

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = LOWER.toUpperCase();
const NUMERIC = "0123456789";
// terraform-provider-random's default special characters.
const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

/** A random string as the random provider makes it: minimums per class first, then the union, shuffled. */
export function randomStringLike(inputs: Record<string, unknown>, entropy: Entropy = RANDOM_MATERIAL.entropy("result")): string {
    const length = Number(inputs.length);
    if (!Number.isInteger(length) || length < 1) throw new Error(`random: length must be a positive integer, got ${String(inputs.length)}`);
    const on = (k: string) => inputs[k] !== false;
    const special = typeof inputs.overrideSpecial === "string" ? inputs.overrideSpecial : SPECIAL;
    const classes: [boolean, string, number][] = [
        [on("lower"), LOWER, Number(inputs.minLower ?? 0)],
        [on("upper"), UPPER, Number(inputs.minUpper ?? 0)],
        [on("numeric") && on("number"), NUMERIC, Number(inputs.minNumeric ?? 0)],
        [on("special"), special, Number(inputs.minSpecial ?? 0)],
    ];
    const chars: string[] = [];
    let alphabet = "";
    for (const [enabled, set, min] of classes) {
        if (!enabled || set.length === 0) continue;
        alphabet += set;
        for (let i = 0; i < min; i++) chars.push(set[entropy.randomInt(set.length)]);
    }
    if (!alphabet) throw new Error("random: every character class is disabled");
    while (chars.length < length) chars.push(alphabet[entropy.randomInt(alphabet.length)]);
    for (let i = chars.length - 1; i > 0; i--) {
        const j = entropy.randomInt(i + 1);
        [chars[i], chars[j]] = [chars[j], chars[i]];
    }
    return chars.join("");
}

const EC_CURVES: Record<string, { node: string; ssh: string }> = {
    P224: { node: "secp224r1", ssh: "" },
    P256: { node: "prime256v1", ssh: "nistp256" },
    P384: { node: "secp384r1", ssh: "nistp384" },
    P521: { node: "secp521r1", ssh: "nistp521" },
};

/** A key pair with every field of `tls.PrivateKey`, generated for real (or derived from a render's seed). */
export function tlsPrivateKey(inputs: Record<string, unknown>, material: GeneratedMaterial = RANDOM_MATERIAL): Record<string, unknown> {
    const seeded = material.seed !== undefined;
    const algorithm = String(inputs.algorithm);
    let keys: crypto.KeyPairKeyObjectResult;
    let privateKeyPem: string;
    let openssh = "";
    if (algorithm === "RSA") {
        const rsaBits = Number(inputs.rsaBits ?? 2048);
        keys = seeded ? rsaKeyPairFrom(material.entropy("key"), rsaBits) : crypto.generateKeyPairSync("rsa", { modulusLength: rsaBits });
        privateKeyPem = keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const jwk = keys.publicKey.export({ format: "jwk" });
        openssh = sshKey("ssh-rsa", [mpint(jwk.e!), mpint(jwk.n!)]);
        inputs = { ...inputs, rsaBits };
    } else if (algorithm === "ECDSA") {
        const curveName = String(inputs.ecdsaCurve ?? "P224");
        const curve = EC_CURVES[curveName];
        if (!curve) throw new Error(`tls: unsupported ecdsaCurve ${curveName}`);
        keys = seeded ? ecKeyPairFrom(material.entropy("key"), curve.node) : crypto.generateKeyPairSync("ec", { namedCurve: curve.node });
        privateKeyPem = keys.privateKey.export({ type: "sec1", format: "pem" }).toString();
        if (curve.ssh) {
            const jwk = keys.publicKey.export({ format: "jwk" });
            const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
            openssh = sshKey(`ecdsa-sha2-${curve.ssh}`, [sshString(Buffer.from(curve.ssh)), sshString(point)]);
        }
        inputs = { ...inputs, ecdsaCurve: curveName };
    } else if (algorithm === "ED25519") {
        keys = seeded ? ed25519KeyPairFrom(material.entropy("key")) : crypto.generateKeyPairSync("ed25519");
        privateKeyPem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        const raw = keys.publicKey.export({ format: "jwk" }).x!;
        openssh = sshKey("ssh-ed25519", [sshString(Buffer.from(raw, "base64url"))]);
    } else {
        throw new Error(`tls: unsupported algorithm ${algorithm}`);
    }
    const blob = openssh ? Buffer.from(openssh.split(" ")[1], "base64") : Buffer.alloc(0);
    return {
        ...inputs,
        privateKeyPem,
        privateKeyPemPkcs8: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
        publicKeyOpenssh: openssh ? `${openssh}\n` : "",
        publicKeyFingerprintSha256: openssh ? `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}` : "",
        publicKeyFingerprintMd5: openssh ? crypto.createHash("md5").update(blob).digest("hex").replace(/(..)(?!$)/g, "$1:") : "",
        // The OpenSSH private key format is not emulated; it stays a secret like the real one.
        privateKeyOpenssh: "",
    };
}

function sshString(b: Buffer): Buffer {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
}
function mpint(b64url: string): Buffer {
    let b = Buffer.from(b64url, "base64url");
    if (b[0] & 0x80) b = Buffer.concat([Buffer.of(0), b]);
    return sshString(b);
}
function sshKey(kind: string, parts: Buffer[]): string {
    return `${kind} ${Buffer.concat([sshString(Buffer.from(kind)), ...parts]).toString("base64")}`;
}

/**
 * Tests plant a known canary at the start of every generated password (DCM_OFFLINE_SECRET_CANARY), so a leak
 * anywhere is found by a plain text search. The length stays the one requested.
 */
function withCanary(secret: string): string {
    const canary = process.env.DCM_OFFLINE_SECRET_CANARY;
    return canary ? (canary + secret).slice(0, Math.max(secret.length, canary.length)) : secret;
}

/** Kubernetes' API server and provider: auto-naming (`<name>-<8 chars>`) and the default namespace. */
function kubernetesObject(inputs: Record<string, unknown>, req: EmulatedRequest): EmulatedResult {
    const metadata = { ...((inputs.metadata as Record<string, unknown>) ?? {}) };
    const material = req.material ?? RANDOM_MATERIAL;
    if (!metadata.name) metadata.name = `${req.name}-${randomStringLike({ length: 8, upper: false, special: false }, material.entropy("name"))}`;
    metadata.uid = uuidFrom(material.entropy("uid"));
    const state = { ...inputs, metadata };
    const namespace = metadata.namespace;
    return { id: namespace ? `${String(namespace)}/${String(metadata.name)}` : String(metadata.name), state };
}

/** Emulators by type token; types not listed echo their inputs. Extend here when the program uses a new type. */
export const EMULATORS: Record<string, Emulator> = {
    "random:index/randomPassword:RandomPassword": (inputs, req) => ({ id: "none", state: { ...inputs, result: withCanary(randomStringLike(inputs, materialOf(req).entropy("result"))) } }),
    "random:index/randomString:RandomString": (inputs, req) => ({ id: "none", state: { ...inputs, result: randomStringLike(inputs, materialOf(req).entropy("result")) } }),
    "tls:index/privateKey:PrivateKey": (inputs, req) => ({ id: materialOf(req).entropy("id").bytes(20).toString("hex"), state: tlsPrivateKey(inputs, materialOf(req)) }),
};

const materialOf = (req: EmulatedRequest) => req.material ?? RANDOM_MATERIAL;

type AsyncEmulator = (inputs: Record<string, unknown>, req: EmulatedRequest) => Promise<EmulatedResult>;


const KEY_USAGES: Record<string, number> = {
    digital_signature: 1, content_commitment: 2, key_encipherment: 4, data_encipherment: 8, key_agreement: 16,
    cert_signing: 32, crl_signing: 64, encipher_only: 128, decipher_only: 256,
};
const EXTENDED_KEY_USAGES: Record<string, string> = {
    server_auth: "1.3.6.1.5.5.7.3.1", client_auth: "1.3.6.1.5.5.7.3.2", code_signing: "1.3.6.1.5.5.7.3.3",
    email_protection: "1.3.6.1.5.5.7.3.4", timestamping: "1.3.6.1.5.5.7.3.8", ocsp_signing: "1.3.6.1.5.5.7.3.9",
};
const SUBJECT_FIELDS: [string, string][] = [
    ["commonName", "CN"], ["organization", "O"], ["organizationalUnit", "OU"], ["locality", "L"], ["province", "ST"],
    ["country", "C"], ["postalCode", "postalCode"], ["serialNumber", "serialNumber"],
];

/** A PEM private key (PKCS#1, SEC 1 or PKCS#8) as a WebCrypto signing pair, with the provider's algorithm name. */
async function signingKeys(pem: string) {
    const privateKey = crypto.createPrivateKey(pem);
    const publicKey = crypto.createPublicKey(privateKey);
    const curve = privateKey.asymmetricKeyDetails?.namedCurve;
    const named: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
    let algorithm: crypto.webcrypto.RsaHashedImportParams | crypto.webcrypto.EcKeyImportParams;
    let signing: crypto.webcrypto.Algorithm;
    let keyAlgorithm: string;
    if (privateKey.asymmetricKeyType === "rsa") {
        algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
        signing = algorithm;
        keyAlgorithm = "RSA";
    } else if (privateKey.asymmetricKeyType === "ec" && curve && named[curve]) {
        algorithm = { name: "ECDSA", namedCurve: named[curve] };
        signing = { name: "ECDSA", hash: curve === "prime256v1" ? "SHA-256" : "SHA-384" } as crypto.webcrypto.Algorithm;
        keyAlgorithm = "ECDSA";
    } else {
        throw new Error(`tls: certificates are emulated for RSA and ECDSA P-256/384/521 keys, not ${privateKey.asymmetricKeyType} ${curve ?? ""}`);
    }
    const subtle = crypto.webcrypto.subtle;
    const der = (k: crypto.KeyObject, type: "pkcs8" | "spki") => k.export({ format: "der", type });
    return {
        privateKey: await subtle.importKey("pkcs8", der(privateKey, "pkcs8"), algorithm, false, ["sign"]),
        publicKey: await subtle.importKey("spki", der(publicKey, "spki"), algorithm, true, ["verify"]),
        signing, keyAlgorithm,
    };
}

function subjectName(subject: unknown): string {
    const s = (subject ?? {}) as Record<string, unknown>;
    const escape = (v: string) => v.replace(/([,+"\\<>;=])/g, "\\$1");
    return SUBJECT_FIELDS.filter(([k]) => typeof s[k] === "string" && s[k] !== "").map(([k, rdn]) => `${rdn}=${escape(String(s[k]))}`).join(", ");
}

function usageExtensions(inputs: Record<string, unknown>) {
    const x509 = x509Lib();
    const uses = (inputs.allowedUses as string[] | undefined) ?? [];
    const unknown = uses.filter((u) => !(u in KEY_USAGES) && !(u in EXTENDED_KEY_USAGES) && u !== "any_extended");
    if (unknown.length > 0) throw new Error(`tls: unknown allowedUses ${unknown.join(", ")}`);
    const flags = uses.reduce((acc, u) => acc | (KEY_USAGES[u] ?? 0), 0);
    const ext = uses.filter((u) => u in EXTENDED_KEY_USAGES).map((u) => EXTENDED_KEY_USAGES[u]);
    return [
        new x509.BasicConstraintsExtension(Boolean(inputs.isCaCertificate), undefined, true),
        ...(flags ? [new x509.KeyUsagesExtension(flags, true)] : []),
        ...(ext.length ? [new x509.ExtendedKeyUsageExtension(ext, false)] : []),
    ];
}

function sanExtension(inputs: Record<string, unknown>) {
    const x509 = x509Lib();
    const names = [
        ...((inputs.dnsNames as string[] | undefined) ?? []).map((value) => ({ type: "dns" as const, value })),
        ...((inputs.ipAddresses as string[] | undefined) ?? []).map((value) => ({ type: "ip" as const, value })),
        ...((inputs.uris as string[] | undefined) ?? []).map((value) => ({ type: "url" as const, value })),
    ];
    return names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : [];
}

function validity(inputs: Record<string, unknown>, material: GeneratedMaterial) {
    const hours = Number(inputs.validityPeriodHours);
    if (!Number.isFinite(hours) || hours <= 0) throw new Error(`tls: validityPeriodHours must be positive, got ${String(inputs.validityPeriodHours)}`);
    const notBefore = new Date(Math.floor(material.now().getTime() / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + hours * 3600_000);
    return { notBefore, notAfter, validityStartTime: notBefore.toISOString(), validityEndTime: notAfter.toISOString() };
}

const pemText = (pem: string) => `${pem.replace(/\r\n/g, "\n").trim()}\n`;
const serial = (material: GeneratedMaterial) => material.entropy("serial").bytes(16).toString("hex").replace(/^[89a-f]/, "1");

/** Certificates made for real (X.509 via @peculiar/x509), with the fields of @pulumi/tls' resources. */
export const ASYNC_EMULATORS: Record<string, AsyncEmulator> = {
    "tls:index/selfSignedCert:SelfSignedCert": async (inputs, req) => {
        const x509 = x509Lib();
        const plain = unwrapSecrets(inputs) as Record<string, unknown>;
        const keys = await signingKeys(String(plain.privateKeyPem));
        const { notBefore, notAfter, validityStartTime, validityEndTime } = validity(plain, materialOf(req));
        const cert = await x509.X509CertificateGenerator.createSelfSigned({
            serialNumber: serial(materialOf(req)), name: subjectName(plain.subject), notBefore, notAfter,
            keys: { privateKey: keys.privateKey, publicKey: keys.publicKey }, signingAlgorithm: keys.signing,
            extensions: [
                ...usageExtensions(plain), ...sanExtension(plain),
                ...(plain.setSubjectKeyId || plain.isCaCertificate ? [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)] : []),
            ],
        });
        return {
            id: BigInt(`0x${cert.serialNumber}`).toString(),
            state: { ...inputs, certPem: pemText(cert.toString("pem")), keyAlgorithm: keys.keyAlgorithm, validityStartTime, validityEndTime, readyForRenewal: false },
        };
    },
    "tls:index/certRequest:CertRequest": async (inputs) => {
        const x509 = x509Lib();
        const plain = unwrapSecrets(inputs) as Record<string, unknown>;
        const keys = await signingKeys(String(plain.privateKeyPem));
        const csr = await x509.Pkcs10CertificateRequestGenerator.create({
            name: subjectName(plain.subject), keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
            signingAlgorithm: keys.signing, extensions: sanExtension(plain),
        });
        return { id: crypto.createHash("sha1").update(Buffer.from(csr.rawData)).digest("hex"), state: { ...inputs, certRequestPem: pemText(csr.toString("pem")), keyAlgorithm: keys.keyAlgorithm } };
    },
    "tls:index/locallySignedCert:LocallySignedCert": async (inputs, req) => {
        const x509 = x509Lib();
        const plain = unwrapSecrets(inputs) as Record<string, unknown>;
        const ca = await signingKeys(String(plain.caPrivateKeyPem));
        const caCert = new x509.X509Certificate(String(plain.caCertPem));
        const csr = new x509.Pkcs10CertificateRequest(String(plain.certRequestPem));
        if (!(await csr.verify())) throw new Error("tls: the certificate request's signature does not verify");
        const { notBefore, notAfter, validityStartTime, validityEndTime } = validity(plain, materialOf(req));
        const subjectKey = await csr.publicKey.export();
        const cert = await x509.X509CertificateGenerator.create({
            serialNumber: serial(materialOf(req)), subject: csr.subject, issuer: caCert.subject, notBefore, notAfter,
            publicKey: subjectKey, signingKey: ca.privateKey, signingAlgorithm: ca.signing,
            extensions: [
                ...usageExtensions(plain),
                ...csr.extensions.filter((e) => e.type === "2.5.29.17"),
                ...(plain.setSubjectKeyId ? [await x509.SubjectKeyIdentifierExtension.create(subjectKey)] : []),
                await x509.AuthorityKeyIdentifierExtension.create(caCert),
            ],
        });
        return {
            id: BigInt(`0x${cert.serialNumber}`).toString(),
            state: { ...inputs, certPem: pemText(cert.toString("pem")), caKeyAlgorithm: ca.keyAlgorithm, validityStartTime, validityEndTime, readyForRenewal: false },
        };
    },
};

/** Creates one resource as its provider would, certificates included (asynchronous); see `emulate`. */
export async function emulateResource(req: EmulatedRequest): Promise<EmulatedResult> {
    const make = req.custom ? ASYNC_EMULATORS[req.type] : undefined;
    if (!make) return emulate(req);
    return markSecretOutputs(await make(req.inputs, req), req);
}

/** Creates one resource as its provider would, marking the outputs the SDK declared secret. */
export function emulate(req: EmulatedRequest): EmulatedResult {
    if (!req.custom) return { state: {} };
    const inputs = req.inputs;
    const emulator = EMULATORS[req.type] ?? (req.type.startsWith("kubernetes:") && !req.type.startsWith("kubernetes:helm") ? kubernetesObject : undefined);
    const result = emulator ? emulator(inputs, req) : { id: `${req.name}-id`, state: { ...inputs } };
    return markSecretOutputs(result, req);
}

function markSecretOutputs(result: EmulatedResult, req: EmulatedRequest): EmulatedResult {
    for (const key of req.secretOutputs) {
        const value = result.state[key];
        if (value !== undefined && !(typeof value === "object" && value !== null && SECRET_KEY in value)) {
            result.state[key] = { [SECRET_KEY]: value };
        }
    }
    return result;
}
