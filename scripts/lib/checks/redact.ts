/** The last line of defence: no secret value reaches a reason, a report or the terminal. */
import { MASK } from "../secret-values";

/** Secret values shorter than this are not redacted (they would mask ordinary words). */
const MIN_LENGTH = 6;

export class Redactor {
    private readonly values = new Set<string>();

    /** Registers a secret; a PEM also registers each of its base64 lines, so a partial dump is masked too. */
    add(value: unknown): void {
        if (typeof value !== "string" || value.length < MIN_LENGTH) return;
        this.values.add(value);
        if (value.includes("-----BEGIN")) {
            for (const line of value.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith("-----")) this.values.add(line);
        }
    }

    redact(text: string): string {
        let out = text;
        // Longest first, so a secret containing another is masked whole.
        for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join(MASK);
        return out;
    }
}
