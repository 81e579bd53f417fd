/**
 * High-fidelity emulation of the providers this program uses, for Pulumi's mock runtime: real random
 * strings of the requested length and alphabet, real key generation, Kubernetes auto-naming, and
 * secret marking of every output the real provider marks secret (`additionalSecretOutputs`).
 */
import * as crypto from "node:crypto";
import { SECRET_KEY } from "./secret-values";

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
export function randomStringLike(inputs: Record<string, unknown>): string {
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
        for (let i = 0; i < min; i++) chars.push(set[crypto.randomInt(set.length)]);
    }
    if (!alphabet) throw new Error("random: every character class is disabled");
    while (chars.length < length) chars.push(alphabet[crypto.randomInt(alphabet.length)]);
    for (let i = chars.length - 1; i > 0; i--) {
        const j = crypto.randomInt(i + 1);
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

/** A key pair with every field of `tls.PrivateKey`, generated for real. */
export function tlsPrivateKey(inputs: Record<string, unknown>): Record<string, unknown> {
    const algorithm = String(inputs.algorithm);
    let keys: crypto.KeyPairKeyObjectResult;
    let privateKeyPem: string;
    let openssh = "";
    if (algorithm === "RSA") {
        const rsaBits = Number(inputs.rsaBits ?? 2048);
        keys = crypto.generateKeyPairSync("rsa", { modulusLength: rsaBits });
        privateKeyPem = keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const jwk = keys.publicKey.export({ format: "jwk" });
        openssh = sshKey("ssh-rsa", [mpint(jwk.e!), mpint(jwk.n!)]);
        inputs = { ...inputs, rsaBits };
    } else if (algorithm === "ECDSA") {
        const curveName = String(inputs.ecdsaCurve ?? "P224");
        const curve = EC_CURVES[curveName];
        if (!curve) throw new Error(`tls: unsupported ecdsaCurve ${curveName}`);
        keys = crypto.generateKeyPairSync("ec", { namedCurve: curve.node });
        privateKeyPem = keys.privateKey.export({ type: "sec1", format: "pem" }).toString();
        if (curve.ssh) {
            const jwk = keys.publicKey.export({ format: "jwk" });
            const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
            openssh = sshKey(`ecdsa-sha2-${curve.ssh}`, [sshString(Buffer.from(curve.ssh)), sshString(point)]);
        }
        inputs = { ...inputs, ecdsaCurve: curveName };
    } else if (algorithm === "ED25519") {
        keys = crypto.generateKeyPairSync("ed25519");
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
    if (!metadata.name) metadata.name = `${req.name}-${randomStringLike({ length: 8, upper: false, special: false })}`;
    metadata.uid = crypto.randomUUID();
    const state = { ...inputs, metadata };
    const namespace = metadata.namespace;
    return { id: namespace ? `${String(namespace)}/${String(metadata.name)}` : String(metadata.name), state };
}

/** Emulators by type token; types not listed echo their inputs. Extend here when the program uses a new type. */
export const EMULATORS: Record<string, Emulator> = {
    "random:index/randomPassword:RandomPassword": (inputs) => ({ id: "none", state: { ...inputs, result: withCanary(randomStringLike(inputs)) } }),
    "random:index/randomString:RandomString": (inputs) => ({ id: "none", state: { ...inputs, result: randomStringLike(inputs) } }),
    "tls:index/privateKey:PrivateKey": (inputs) => ({ id: crypto.randomBytes(20).toString("hex"), state: tlsPrivateKey(inputs) }),
};

/** Creates one resource as its provider would, marking the outputs the SDK declared secret. */
export function emulate(req: EmulatedRequest): EmulatedResult {
    if (!req.custom) return { state: {} };
    const inputs = req.inputs;
    const emulator = EMULATORS[req.type] ?? (req.type.startsWith("kubernetes:") && !req.type.startsWith("kubernetes:helm") ? kubernetesObject : undefined);
    const result = emulator ? emulator(inputs, req) : { id: `${req.name}-id`, state: { ...inputs } };
    for (const key of req.secretOutputs) {
        const value = result.state[key];
        if (value !== undefined && !(typeof value === "object" && value !== null && SECRET_KEY in value)) {
            result.state[key] = { [SECRET_KEY]: value };
        }
    }
    return result;
}
