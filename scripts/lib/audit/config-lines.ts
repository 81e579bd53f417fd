/**
 * Which config keys of a bank's stack file differ between two sides of a render diff, and on which line of the new
 * file each stands: where a code-scanning UI places a result the change of that file caused.
 */
import * as YAML from "yaml";
import { deepEqual } from "./diff";
import type { ConfigKeyChange } from "./model";

interface KeyAt {
    value: unknown;
    line: number;
}

/** The `config:` keys of a stack file's text with their values and 1-based lines; none for a missing or broken file. */
function configKeys(text: string | undefined): Map<string, KeyAt> {
    const out = new Map<string, KeyAt>();
    if (text === undefined) return out;
    const lines = new YAML.LineCounter();
    const doc = YAML.parseDocument(text, { lineCounter: lines });
    if (doc.errors.length) return out;
    const config = doc.get("config", true);
    if (!YAML.isMap(config)) return out;
    for (const pair of config.items) {
        if (!YAML.isScalar(pair.key)) continue;
        const offset = pair.key.range?.[0] ?? 0;
        out.set(String(pair.key.value), { value: YAML.isNode(pair.value) ? pair.value.toJSON() : pair.value, line: lines.linePos(offset).line });
    }
    return out;
}

/**
 * Keys added or changed (at their line in the new file) and removed (no line: they are in no file any more), sorted
 * by line. `before`/`after` are the stack file's text at each side (undefined: no such file).
 */
export function changedConfigKeys(before: string | undefined, after: string | undefined): ConfigKeyChange[] {
    const [old, now] = [configKeys(before), configKeys(after)];
    const out: ConfigKeyChange[] = [];
    for (const [key, at] of now) if (!old.has(key) || !deepEqual(old.get(key)!.value, at.value)) out.push({ key, line: at.line, change: old.has(key) ? "changed" : "added" });
    for (const key of old.keys()) if (!now.has(key)) out.push({ key, change: "removed" });
    return out.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || a.key.localeCompare(b.key));
}
