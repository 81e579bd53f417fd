/** Field-level differences between two property maps, as Pulumi property paths. Secret markers are transparent. */
import { isSecretValue, SECRET_KEY } from "../../../domain/secret-values";
import { childPath } from "./paths";

export interface RawFieldChange {
    path: string;
    kind: "add" | "delete" | "update";
    old?: unknown;
    new?: unknown;
    /** What the value is made from that this change also changes, e.g. `replaced key-keeper-identification`. */
    from?: string[];
}

function plain(v: unknown): unknown {
    return isSecretValue(v) ? plain(v[SECRET_KEY]) : v;
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every leaf that differs; arrays compare by index. */
export function diffValues(oldValue: unknown, newValue: unknown, path = "", into: RawFieldChange[] = []): RawFieldChange[] {
    const a = plain(oldValue);
    const b = plain(newValue);
    if (a === b) return into;
    if (a === undefined) {
        into.push({ path, kind: "add", new: b });
    } else if (b === undefined) {
        into.push({ path, kind: "delete", old: a });
    } else if (isObject(a) && isObject(b)) {
        for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffValues(a[k], b[k], childPath(path, k), into);
    } else if (Array.isArray(a) && Array.isArray(b)) {
        for (let i = 0; i < Math.max(a.length, b.length); i++) diffValues(a[i], b[i], childPath(path, i), into);
    } else if (!deepEqual(a, b)) {
        into.push({ path, kind: "update", old: a, new: b });
    }
    return into;
}

/** Every leaf of a value, as if added (create) or removed (delete). */
export function leaves(value: unknown, kind: "add" | "delete", path = "", into: RawFieldChange[] = []): RawFieldChange[] {
    const v = plain(value);
    if (isObject(v) && Object.keys(v).length > 0) for (const [k, x] of Object.entries(v)) leaves(x, kind, childPath(path, k), into);
    else if (Array.isArray(v) && v.length > 0) v.forEach((x, i) => leaves(x, kind, childPath(path, i), into));
    // A resource with no properties at all (a component's empty inputs) has no field to show.
    else if (path === "" && (isObject(v) || Array.isArray(v))) return into;
    else if (v !== undefined) into.push(kind === "add" ? { path, kind, new: v } : { path, kind, old: v });
    return into;
}

export function deepEqual(a: unknown, b: unknown): boolean {
    const x = plain(a);
    const y = plain(b);
    if (x === y) return true;
    if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => deepEqual(v, y[i]));
    if (isObject(x) && isObject(y)) {
        const kx = Object.keys(x);
        return kx.length === Object.keys(y).length && kx.every((k) => k in y && deepEqual(x[k], y[k]));
    }
    return false;
}
