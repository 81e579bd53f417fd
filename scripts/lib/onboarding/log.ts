/**
 * Structured logs: one JSON object per line. Callers pass only facts (ids, aliases, statuses, counts);
 * the logger never sees headers, bodies or credentials, and masks the values it is told are secret, with the
 * domain's one redactor (parts and encodings too, as the checks and the audit do).
 */
import { Redactor } from "../../../domain/redact";

export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
    log(level: Level, msg: string, fields?: Record<string, unknown>): void;
    /** Values to mask in every later line (secret outputs, credentials). */
    redact(values: Iterable<string>): void;
}

export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
    const redactor = new Redactor();
    return {
        log(level, msg, fields = {}) {
            write(`${redactor.redact(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }))}\n`);
        },
        redact(values) {
            for (const v of values) redactor.add(v);
        },
    };
}

/** A logger that keeps nothing. */
export const silentLogger: Logger = { log: () => undefined, redact: () => undefined };
