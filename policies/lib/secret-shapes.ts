/**
 * What secret material looks like in places where it must never be: PEM private keys, private JWKs,
 * JWTs and well-known token formats, credentials in URLs, and values under password/secret/token keys.
 */
import * as YAML from "yaml";
import { isSecretName } from "../../domain/secret-names";

const PEM_PRIVATE_KEY = /-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----/;
const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
const TOKENS: [RegExp, string][] = [
    [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
    [/\bgithub_pat_[A-Za-z0-9_]{22,}\b/, "a GitHub token"],
    [/\bglpat-[A-Za-z0-9_-]{20,}\b/, "a GitLab token"],
    [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, "a Slack token"],
    [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
    [/\bsk_live_[A-Za-z0-9]{16,}\b/, "a Stripe secret key"],
    [/\bAIza[0-9A-Za-z_-]{35}\b/, "a Google API key"],
];
/** `scheme://user:password@host`: a DSN or URL with a password in it. */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:([^\s/@]+)@/i;
/** True if a name says its value is a credential: the domain's one rule, shared with the audit. */
export { isSecretName };

/** Values that are obviously not a secret even under a secret-sounding name. */
export const HARMLESS = /^(|true|false|yes|no|on|off|null|none|enabled|disabled|required|optional|\*+|<[^>]*>|\$\{[^}]*\}|\$\([^)]*\)|\{\{[^}]*\}\}|[0-9]+[smhd]?)$/i;

/** Values that name something (a Secret, a Service, a host): lowercase words joined by "-" or ".". */
// Also `<namespace>/<name>`, as ingress-nginx names a Secret (proxy-ssl-secret, auth-secret).
const REFERENCE_VALUE = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?\/)?[a-z][a-z0-9]*(?:[-.][a-z][a-z0-9]*)+$/;

/** True if a value under a secret-sounding name is still no credential: empty, a flag, a placeholder, a reference. */
export function isHarmlessValue(value: string): boolean {
    const v = value.trim();
    return HARMLESS.test(v) || REFERENCE_VALUE.test(v);
}

/** Why a string is secret material by its shape alone, or undefined. */
export function secretShape(value: string): string | undefined {
    if (PEM_PRIVATE_KEY.test(value)) return "a PEM private key";
    if (JWT.test(value)) return "a JWT";
    for (const [re, what] of TOKENS) if (re.test(value)) return what;
    const creds = URL_CREDENTIALS.exec(value);
    if (creds && !HARMLESS.test(creds[1])) return "a URL with a password in it";
    return undefined;
}

/** A JWK with private members (`d` of EC/RSA/OKP, `k` of a symmetric key). */
export function isPrivateJwk(o: Record<string, unknown>): boolean {
    return typeof o.kty === "string" && (typeof o.d === "string" || typeof o.k === "string");
}

/** Why a named value is a credential: its shape, or a non-trivial value under a secret name. */
export function namedSecret(name: string, value: unknown): string | undefined {
    if (typeof value !== "string") return undefined;
    const shape = secretShape(value);
    if (shape) return shape;
    if (isSecretName(name) && !isHarmlessValue(value)) return `a literal value under the secret-sounding name "${name}"`;
    return undefined;
}

/**
 * Secret material inside a document (a ConfigMap entry, an annotation): its shape, or, when it parses as
 * JSON or YAML, a value under a secret-sounding key or a private JWK anywhere in it. Returns [path, why].
 */
export function secretsInDocument(text: string): [string, string][] {
    const found: [string, string][] = [];
    let doc: unknown;
    try {
        const t = text.trim();
        doc = t.startsWith("{") || t.startsWith("[") ? JSON.parse(t) : YAML.parse(t);
    } catch {
        doc = undefined;
    }
    if (typeof doc === "object" && doc !== null) walk(doc, "", undefined, false, found);
    const shape = secretShape(text);
    if (shape && !found.some(([, why]) => why === shape)) found.push(["", shape]);
    return found;
}

function walk(v: unknown, path: string, key: string | undefined, underSecret: boolean, found: [string, string][]): void {
    if (typeof v === "string") {
        const why = secretShape(v) ?? (underSecret && !isHarmlessValue(v) ? "a literal value in a secrets section" : key ? namedSecret(key, v) : undefined);
        if (why) found.push([path, why]);
    } else if (Array.isArray(v)) {
        v.forEach((x, i) => walk(x, `${path}[${i}]`, key, underSecret, found));
    } else if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        if (isPrivateJwk(o)) found.push([path, "a private JWK"]);
        for (const [k, x] of Object.entries(o)) {
            // Only containers named like "secrets"/"credentials" make everything beneath them secret:
            // "password:" in Kratos config is a section of settings, not a password.
            walk(x, path ? `${path}.${k}` : k, k, underSecret || /^(secrets|credentials)$/i.test(k), found);
        }
    }
}
