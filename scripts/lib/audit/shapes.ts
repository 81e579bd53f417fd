/**
 * Secrets recognised by shape, whatever the program knows: private keys, tokens, credentials in URLs and
 * connection strings, and fields whose name says they hold a secret.
 */
import { MASK } from "../../../domain/secret-values";
import { parsePath } from "./paths";
import { isSecretName } from "../../../domain/secret-names";

/** A field whose name says it holds a secret: the domain's one rule, shared with the policy pack. */
export { isSecretName };

// Stored beside secrets (a key-keeper Secret's usernames, a signer's kid) but public: shown wherever else they appear.
const PUBLIC_NAME = /(^|[._-])(kid|user(name)?s?|public[-_]?key\w*|jwks?(\.json)?|ca\.crt|tls\.crt|cert(ificate)?(\.pem)?)$/i;
const PUBLIC_MATERIAL = /^-----BEGIN (PUBLIC KEY|CERTIFICATE)-----[\s\S]*-----END (PUBLIC KEY|CERTIFICATE)-----\s*$/;

/** A leaf that is public although it sits in a secret map: by its key (kid, username, public key) or its content. */
export function isPublicLeaf(path: string, value: unknown): boolean {
    let name: unknown;
    try {
        name = parsePath(path).pop();
    } catch {
        name = undefined;
    }
    if (typeof name === "string" && PUBLIC_NAME.test(name)) return true;
    return typeof value === "string" && PUBLIC_MATERIAL.test(value) && !value.includes("PRIVATE KEY");
}

const RULES: [RegExp, (m: string, ...g: string[]) => string][] = [
    [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, () => MASK],
    [/\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g, () => MASK],
    [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:)([^\s@/]+)@/gi, (_m, pre: string) => `${pre}${MASK}@`],
    [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, (_m, kind: string) => `${kind} ${MASK}`],
    [/((?:password|passwd|pwd|secret|token|api[-_]?key)\s*[=:]\s*)("?)[^\s;&"',}]+/gi, (_m, pre: string, q: string) => `${pre}${q}${MASK}`],
    [/\b(ghp_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|sk_live_[A-Za-z0-9]{16,})/g, () => MASK],
];

// One cheap test first: most strings hold none of these.
const ANY = /PRIVATE KEY|eyJ|:\/\/[^\s@/]*:[^\s@/]*@|bearer|basic|pass|pwd|secret|token|api[-_]?key|ghp_|github_pat_|xox|AKIA|sk_live_/i;

/** The text with every secret-shaped part replaced by the mask. */
export function maskByShape(text: string): string {
    if (!ANY.test(text)) return text;
    let out = text;
    for (const [re, fn] of RULES) out = out.replace(re, fn as (m: string) => string);
    return out;
}
