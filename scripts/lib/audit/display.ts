/** Values as a report shows them: compact JSON, long values shortened (after masking, never before). */
import { MASK } from "../../../domain/secret-values";
import { UNKNOWN_VALUE } from "./preview";

const MAX = 160;
/** What a value Pulumi cannot know during a preview is shown as. */
export const KNOWN_AFTER_APPLY = "(known after apply)";
const QUOTED_UNKNOWN = JSON.stringify(UNKNOWN_VALUE);

export function displayValue(v: unknown): string {
    if (v === MASK) return MASK;
    if (v === UNKNOWN_VALUE) return KNOWN_AFTER_APPLY;
    const json = typeof v === "string" ? JSON.stringify(v) : v === undefined ? "" : JSON.stringify(v);
    const text = json.includes(QUOTED_UNKNOWN) ? json.split(QUOTED_UNKNOWN).join(KNOWN_AFTER_APPLY) : json;
    return text.length > MAX ? `${text.slice(0, MAX - 1)}… (${text.length} chars)` : text;
}
