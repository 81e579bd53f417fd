/** The JSONPath subset scenarios use: `$`, `.name`, `[n]`, `["name"]`. */
import { InputError } from "./errors";

export type PathPart = string | number;

export function parseJsonPath(path: string, field: string): PathPart[] {
    if (typeof path !== "string" || !path.startsWith("$")) throw new InputError(field, `'${String(path)}' must be a JSONPath starting with $ (e.g. $.items[0].id)`);
    const parts: PathPart[] = [];
    const re = /\.([A-Za-z_][\w-]*)|\[(\d+)\]|\["([^"\]]+)"\]/y;
    re.lastIndex = 1;
    while (re.lastIndex < path.length) {
        const at = re.lastIndex;
        const m = re.exec(path);
        if (!m) throw new InputError(field, `'${path}' is not a supported JSONPath (at character ${at + 1}; use .name, [n] or ["name"])`);
        parts.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]));
    }
    return parts;
}

/** The value at path, or undefined. */
export function select(doc: unknown, parts: PathPart[]): unknown {
    let v: unknown = doc;
    for (const p of parts) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string | number, unknown>)[p];
    }
    return v;
}
