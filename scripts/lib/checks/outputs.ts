/**
 * What the checks need from a stack's outputs (`pulumi stack output --json --show-secrets`), validated:
 * every missing or malformed output is an InputError naming it, all reported at once. URLs absent from
 * older stacks are derived.
 */
import * as crypto from "node:crypto";
import { ENTITY_USERS } from "../../../domain/entity-users";
import { isSigningAlgorithm, SIGNING_ALGORITHMS, SIGNING_KEYS, SigningAlgorithm } from "../../../domain/signing";
import { InputError, InputProblems } from "./errors";

/** A PEM that parses as a private key and is labelled PKCS#8, the form the signer imports. */
function isPkcs8PrivateKey(pem: string): boolean {
    try {
        crypto.createPrivateKey(pem);
    } catch {
        return false;
    }
    return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1] === "PRIVATE KEY";
}

/** RFC 7638 thumbprint of a public key (the members each key type requires, in lexicographic order). */
function thumbprint(key: crypto.KeyObject): string {
    const jwk = key.export({ format: "jwk" }) as Record<string, string>;
    const members = jwk.kty === "RSA" ? ["e", "kty", "n"] : ["crv", "kty", "x", "y"];
    const json = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
    return crypto.createHash("sha256").update(json).digest("base64url");
}

/** The curve (EC) or the RSA key types (as Node.js names them) each signing algorithm needs. */
function keyKinds(algorithm: SigningAlgorithm): readonly string[] {
    const kind = SIGNING_KEYS[algorithm];
    return kind.type === "ec" ? [kind.nodeCurve] : kind.nodeTypes;
}

/**
 * The outputs' key material must be one key: the private key's public half is publicKeyPem, kid is its
 * thumbprint, and the key suits signingAlgorithm. A mismatch is bad input, not the bank's fault: DCM's
 * tokens would not verify with the key the bank received.
 */
function checkKeyPair(privateKeyPem: string, publicKeyPem: string, kid: string, algorithm: SigningAlgorithm): void {
    let publicKey: crypto.KeyObject;
    try {
        publicKey = crypto.createPublicKey(publicKeyPem);
    } catch {
        throw new InputError("outputs.publicKeyPem", "is not a public key PEM that parses");
    }
    const derived = crypto.createPublicKey(crypto.createPrivateKey(privateKeyPem));
    const spki = (k: crypto.KeyObject) => k.export({ format: "der", type: "spki" });
    if (!spki(derived).equals(spki(publicKey))) {
        throw new InputError("outputs.signingPrivateKeyPem", "does not match outputs.publicKeyPem (it is the private half of another key): take both from the same stack");
    }
    const kind = publicKey.asymmetricKeyType === "ec" ? publicKey.asymmetricKeyDetails?.namedCurve : publicKey.asymmetricKeyType;
    if (!keyKinds(algorithm).includes(kind ?? "")) throw new InputError("outputs.signingAlgorithm", `'${algorithm}' does not suit the ${kind ?? "unknown"} key in outputs.publicKeyPem`);
    if (thumbprint(publicKey) !== kid) throw new InputError("outputs.kid", "is not the RFC 7638 thumbprint of outputs.publicKeyPem: take both from the same stack");
}

export type Algorithm = SigningAlgorithm;
/** The entity users, in the order the checks visit them. */
export const ENTITIES = ENTITY_USERS;

export interface EntityUser {
    entity: (typeof ENTITIES)[number];
    username: string;
    secret: string;
}

export interface StackFacts {
    alias: string;
    backofficeHost: string;
    apiHost: string;
    backofficeUrl: string;
    /** The DCM API base (the api host). */
    apiUrl: string;
    kratosPublicUrl: string;
    jwksUrl: string;
    keyKeeperUrl: string;
    signingAlgorithm: Algorithm;
    kid: string;
    publicKeyPem: string;
    privateKeyPem: string;
    users: EntityUser[];
    /** The cluster's CA in self-signed mode. */
    tlsCaCertificatePem?: string;
}

const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function text(outputs: Record<string, unknown>, field: string, required = true): string | undefined {
    const v = outputs[field];
    if (v === undefined || v === null || (!required && v === "")) {
        if (required) throw new InputError(`outputs.${field}`, "is missing");
        return undefined;
    }
    if (v === "[secret]") throw new InputError(`outputs.${field}`, "is masked ('[secret]'): take the outputs with `pulumi stack output --json --show-secrets`");
    if (typeof v !== "string" || v.trim() === "") throw new InputError(`outputs.${field}`, "must be a non-empty string");
    return v;
}

/** The URL output, or the one derived from fallback when absent; undefined when absent and fallback is too (its source is reported). */
function url(outputs: Record<string, unknown>, field: string, fallback: string | undefined): string | undefined {
    const v = text(outputs, field, false) ?? fallback;
    if (v === undefined) return undefined;
    let parsed: URL;
    try {
        parsed = new URL(v);
    } catch {
        throw new InputError(`outputs.${field}`, `'${v}' is not a URL`);
    }
    if (parsed.protocol !== "https:") throw new InputError(`outputs.${field}`, "must be an https URL");
    if (parsed.username || parsed.password) throw new InputError(`outputs.${field}`, "must not carry credentials");
    return v.replace(/\/+$/, "");
}

function pair(outputs: Record<string, unknown>, field: string): Record<(typeof ENTITIES)[number], string> {
    const v = outputs[field];
    if (v === undefined) throw new InputError(`outputs.${field}`, "is missing");
    if (v === "[secret]") throw new InputError(`outputs.${field}`, "is masked ('[secret]'): take the outputs with `pulumi stack output --json --show-secrets`");
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InputError(`outputs.${field}`, `must be a map with ${ENTITIES.join(" and ")}`);
    const map = v as Record<string, unknown>;
    for (const e of ENTITIES) {
        if (typeof map[e] !== "string" || map[e] === "") throw new InputError(`outputs.${field}.${e}`, map[e] === undefined ? "is missing" : "must be a non-empty string");
        if (map[e] === "[secret]") throw new InputError(`outputs.${field}.${e}`, "is masked ('[secret]'): use --show-secrets");
    }
    return map as Record<(typeof ENTITIES)[number], string>;
}

function host(outputs: Record<string, unknown>, field: string): string {
    const v = text(outputs, field)!;
    if (!HOST.test(v)) throw new InputError(`outputs.${field}`, `'${v}' is not a DNS host name`);
    return v;
}

/** The keys of `npm run render`'s summary.json, which is not stack outputs but is easily passed for them. */
const RENDER_SUMMARY_KEYS = ["project", "stack", "resourceCount", "resources"];

/** How to take a stack's outputs, as docs/devops.md says. */
const takeOutputs = (stack: string) => `pulumi stack output -s ${stack} --json --show-secrets | npm run check -- ${stack} --outputs -`;

/**
 * The checks' facts from a stack's outputs. With the stack's name, the outputs' alias must be it: one stack
 * per bank alias, so another alias means another bank's outputs (a qualified org/project/stack name counts
 * by its last part).
 */
export function stackFacts(outputs: unknown, stack?: string): StackFacts {
    if (typeof outputs !== "object" || outputs === null || Array.isArray(outputs)) {
        throw new InputError("outputs", "must be a JSON object (the output of `pulumi stack output --json --show-secrets`)");
    }
    const o = outputs as Record<string, unknown>;
    // Said alone: every output would be missing from it, which would hide what the file is.
    if (RENDER_SUMMARY_KEYS.every((k) => k in o) && !("alias" in o)) {
        throw new InputError("outputs", `is \`npm run render\`'s summary.json (it has ${RENDER_SUMMARY_KEYS.join(", ")}), not the stack's outputs, and its secrets are masked: pass the JSON of \`pulumi stack output --json --show-secrets\`, e.g. \`${takeOutputs(stack ?? "<stack>")}\``);
    }
    const problems = new InputProblems();
    const check = problems.check.bind(problems);
    const alias = check(() => text(o, "alias"));
    const stackAlias = stack?.split("/").pop();
    if (alias && stackAlias && alias !== stackAlias) {
        problems.add(new InputError("outputs.alias", `is '${alias}', not the stack's name '${stackAlias}' (one stack per bank alias): these are another bank's outputs; take stack ${stackAlias}'s (\`${takeOutputs(stackAlias)}\`), or check stack ${alias}`));
    }
    const backofficeHost = check(() => host(o, "backofficeHost"));
    const apiHost = check(() => host(o, "apiHost"));
    const signingAlgorithm = check(() => {
        const v = text(o, "signingAlgorithm")!;
        if (!isSigningAlgorithm(v)) throw new InputError("outputs.signingAlgorithm", `'${v}' is not one of ${SIGNING_ALGORITHMS.join(", ")}`);
        return v;
    });
    const publicKeyPem = check(() => {
        const v = text(o, "publicKeyPem")!;
        if (!v.includes("-----BEGIN PUBLIC KEY-----")) throw new InputError("outputs.publicKeyPem", "must be an SPKI PEM (BEGIN PUBLIC KEY)");
        return v;
    });
    const privateKeyPem = check(() => {
        const v = text(o, "signingPrivateKeyPem")!;
        if (!isPkcs8PrivateKey(v)) throw new InputError("outputs.signingPrivateKeyPem", "must be a PKCS#8 PEM private key (label PRIVATE KEY, not EC or RSA PRIVATE KEY)");
        return v;
    });
    const kid = check(() => text(o, "kid")!);
    // Whether the four are one key can be judged only when each is well-formed.
    if (signingAlgorithm && publicKeyPem && privateKeyPem && kid) check(() => checkKeyPair(privateKeyPem, publicKeyPem, kid, signingAlgorithm));
    const usernames = check(() => pair(o, "keyKeeperUsernames"));
    const passwords = check(() => pair(o, "keyKeeperPasswords"));
    const backofficeUrl = check(() => url(o, "backofficeUrl", backofficeHost && `https://${backofficeHost}`));
    const apiUrl = check(() => url(o, "apiUrl", apiHost && `https://${apiHost}`));
    const kratosPublicUrl = check(() => url(o, "kratosPublicUrl", backofficeUrl && `${backofficeUrl}/.ory`));
    const jwksUrl = check(() => url(o, "jwksUrl", apiUrl && `${apiUrl}/.well-known/jwks.json`));
    const keyKeeperUrl = check(() => url(o, "keyKeeperUrl", text(o, "keyKeeperUrl")!));
    const ca = check(() => text(o, "tlsCaCertificatePem", false));
    problems.throwIfAny();
    return {
        alias: alias!,
        backofficeHost: backofficeHost!,
        apiHost: apiHost!,
        backofficeUrl: backofficeUrl!,
        apiUrl: apiUrl!,
        kratosPublicUrl: kratosPublicUrl!,
        jwksUrl: jwksUrl!,
        keyKeeperUrl: keyKeeperUrl!,
        signingAlgorithm: signingAlgorithm!,
        kid: kid!,
        publicKeyPem: publicKeyPem!,
        privateKeyPem: privateKeyPem!,
        users: ENTITIES.map((entity) => ({ entity, username: usernames![entity], secret: passwords![entity] })),
        ...(ca ? { tlsCaCertificatePem: ca } : {}),
    };
}
