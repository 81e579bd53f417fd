/**
 * Secret values as the offline runtime records them: `{ "$secret": value }`, the same places where the
 * Pulumi engine would hold a secret. Helpers to find, unwrap and mask them.
 */
export const SECRET_KEY = "$secret";
/** What every secret value is replaced with in files and reports. */
export const MASK = "[secret]";

export type SecretValue = { [SECRET_KEY]: unknown };

export function isSecretValue(v: unknown): v is SecretValue {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && SECRET_KEY in v;
}

/** The value with every secret marker removed (for policies and checks that need the real value). */
export function unwrapSecrets(v: unknown): unknown {
    if (isSecretValue(v)) return unwrapSecrets(v[SECRET_KEY]);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

/** The value with every secret leaf replaced by MASK; a secret map keeps its keys, so readers see what it holds. */
export function maskSecrets(v: unknown): unknown {
    if (isSecretValue(v)) return maskLeaves(v[SECRET_KEY]);
    if (Array.isArray(v)) return v.map(maskSecrets);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecrets(x)]));
    return v;
}

function maskLeaves(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(maskLeaves);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(unwrapSecrets(v) as object).map(([k, x]) => [k, maskLeaves(x)]));
    return MASK;
}

/** Every secret's plain value inside v (strings, and the JSON of structured secrets). */
export function secretLeaves(v: unknown, into: string[] = []): string[] {
    if (isSecretValue(v)) {
        const inner = unwrapSecrets(v[SECRET_KEY]);
        if (typeof inner === "string") into.push(inner);
        else if (inner !== null && inner !== undefined) {
            into.push(JSON.stringify(inner));
            collectStrings(inner, into);
        }
    } else if (Array.isArray(v)) v.forEach((x) => secretLeaves(x, into));
    else if (typeof v === "object" && v !== null) Object.values(v).forEach((x) => secretLeaves(x, into));
    return into;
}

function collectStrings(v: unknown, into: string[]): void {
    if (typeof v === "string") into.push(v);
    else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, into));
    else if (typeof v === "object" && v !== null) Object.values(v).forEach((x) => collectStrings(x, into));
}
