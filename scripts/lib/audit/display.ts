/** Values as a report shows them: compact JSON, long values shortened (after masking, never before). */
import { MASK } from "../secret-values";

const MAX = 160;

export function displayValue(v: unknown): string {
    if (v === MASK) return MASK;
    const text = typeof v === "string" ? JSON.stringify(v) : v === undefined ? "" : JSON.stringify(v);
    return text.length > MAX ? `${text.slice(0, MAX - 1)}… (${text.length} chars)` : text;
}
