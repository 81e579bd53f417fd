/** Durations as people write them on a command line or in a scenario: 500ms, 30s, 2m, 1h. */
import { InputError } from "./errors";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, field: string): number {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(text).trim());
    if (!m) throw new InputError(field, `'${text}' is not a duration (a number with ms, s, m or h, e.g. 30s)`);
    return Math.round(Number(m[1]) * UNITS[m[2]]);
}
