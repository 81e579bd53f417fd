/**
 * JSON Web Key Sets as an auditor reads them: which `kid`s a change publishes, withdraws or keeps, not the document's
 * text. A JWKS is a JSON document with a `keys` array of keys (RFC 7517 section 5), held as a string (the JWKS
 * ConfigMap's `jwks.json`) or as an object (the stack output `jwks`).
 */
import { childPath } from "./paths";

/** One key of a set, by its public identifying members only (never key material such as `d`, `x`, `n`). */
export interface JwkSummary {
    kid: string;
    alg?: string;
    kty?: string;
    use?: string;
    crv?: string;
}

/** Two key sets compared by `kid`; each list sorted by kid. */
export interface KeySetDiff {
    added: JwkSummary[];
    removed: JwkSummary[];
    kept: JwkSummary[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The keys of a JWKS (a JSON string or an object), or undefined when the value is no key set. */
export function keySetOf(value: unknown): JwkSummary[] | undefined {
    let doc = value;
    if (typeof value === "string") {
        // Cheap test first: most strings are no JSON object at all.
        if (!/^\s*\{/.test(value) || !value.includes('"keys"')) return undefined;
        try {
            doc = JSON.parse(value);
        } catch {
            return undefined;
        }
    }
    if (!isObject(doc) || !Array.isArray(doc.keys) || !doc.keys.every(isObject)) return undefined;
    // Every key of a set a key keeper can pick from has a kid and a key type (RFC 7517 4.1, 4.5).
    if (!doc.keys.every((k) => typeof k.kid === "string" && typeof k.kty === "string")) return undefined;
    return (doc.keys as Record<string, unknown>[]).map((k) => {
        const out: JwkSummary = { kid: k.kid as string };
        for (const m of ["alg", "kty", "use", "crv"] as const) if (typeof k[m] === "string") out[m] = k[m] as string;
        return out;
    }).sort((a, b) => a.kid.localeCompare(b.kid));
}

export function diffKeySets(before: readonly JwkSummary[], after: readonly JwkSummary[]): KeySetDiff {
    const old = new Set(before.map((k) => k.kid));
    const now = new Set(after.map((k) => k.kid));
    return {
        added: after.filter((k) => !old.has(k.kid)),
        removed: before.filter((k) => !now.has(k.kid)),
        kept: after.filter((k) => old.has(k.kid)),
    };
}

/** Paths (Pulumi property paths) in a property map whose value is a key set. */
export function keySetPaths(root: unknown, path = "", into: string[] = [], depth = 0): string[] {
    if (depth > 50) return into;
    if (path && keySetOf(root)) {
        into.push(path);
        return into;
    }
    if (Array.isArray(root)) root.forEach((v, i) => keySetPaths(v, childPath(path, i), into, depth + 1));
    else if (isObject(root)) for (const [k, v] of Object.entries(root)) keySetPaths(v, childPath(path, k), into, depth + 1);
    return into;
}

/** `kid (alg, kty, crv, use)`: one key as a line of the report. */
export function describeKey(k: JwkSummary): string {
    const traits = [k.alg, k.kty, k.crv, k.use && `use ${k.use}`].filter(Boolean);
    return `${k.kid}${traits.length ? ` (${traits.join(", ")})` : ""}`;
}

/** A key-set change in one line: `added: ...; removed: ...; kept: ...` (empty lists left out). */
export function describeKeySetDiff(d: KeySetDiff): string {
    const part = (label: string, keys: JwkSummary[]) => (keys.length ? `${label} ${keys.map(describeKey).join(", ")}` : "");
    return [part("added", d.added), part("removed", d.removed), part("kept", d.kept)].filter(Boolean).join("; ") || "no keys";
}
