/** Pulumi property paths (`a.b[0]["x.y"]`): parse, format and read values by them. */

export type Segment = string | number;

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function formatPath(segments: readonly Segment[]): string {
    let out = "";
    for (const s of segments) {
        if (typeof s === "number") out += `[${s}]`;
        else if (SIMPLE_KEY.test(s)) out += out ? `.${s}` : s;
        else out += `[${JSON.stringify(s)}]`;
    }
    return out;
}

/** Appends one segment to a formatted path. */
export function childPath(parent: string, s: Segment): string {
    if (typeof s === "number") return `${parent}[${s}]`;
    if (SIMPLE_KEY.test(s)) return parent ? `${parent}.${s}` : s;
    return `${parent}[${JSON.stringify(s)}]`;
}

/** Parses a property path; throws on malformed input, naming the position. */
export function parsePath(path: string): Segment[] {
    const out: Segment[] = [];
    let i = 0;
    while (i < path.length) {
        const c = path[i];
        if (c === ".") {
            i++;
            continue;
        }
        if (c === "[") {
            const close = path[i + 1] === '"' ? closingQuote(path, i + 1) + 1 : path.indexOf("]", i);
            if (close < 0 || path[close] !== "]") throw new Error(`malformed property path '${path}' at ${i}`);
            const inner = path.slice(i + 1, close);
            if (inner.startsWith('"')) out.push(JSON.parse(inner) as string);
            else if (/^\d+$/.test(inner)) out.push(Number(inner));
            else if (inner === "*") out.push("*");
            else throw new Error(`malformed property path '${path}' at ${i}`);
            i = close + 1;
            continue;
        }
        let j = i;
        while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
        out.push(path.slice(i, j));
        i = j;
    }
    return out;
}

function closingQuote(s: string, open: number): number {
    for (let i = open + 1; i < s.length; i++) {
        if (s[i] === "\\") i++;
        else if (s[i] === '"') return i;
    }
    return -1;
}

/** The value at a path, or undefined. */
export function getPath(value: unknown, segments: readonly Segment[]): unknown {
    let v = value;
    for (const s of segments) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string, unknown>)[s as string];
    }
    return v;
}
