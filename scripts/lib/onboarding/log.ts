/**
 * Structured logs: one JSON object per line. Callers pass only facts (ids, aliases, statuses, counts);
 * the logger never sees headers, bodies or credentials, and masks the values it is told are secret.
 */
import { MASK } from "../secret-values";

export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
    log(level: Level, msg: string, fields?: Record<string, unknown>): void;
    /** Values to mask in every later line (secret outputs, credentials). */
    redact(values: Iterable<string>): void;
}

export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
    const secrets = new Set<string>();
    return {
        log(level, msg, fields = {}) {
            let line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
            for (const s of secrets) line = line.split(JSON.stringify(s).slice(1, -1)).join(MASK);
            write(`${line}\n`);
        },
        redact(values) {
            for (const v of values) if (v && v.length >= 6) secrets.add(v);
        },
    };
}

/** A logger that keeps nothing. */
export const silentLogger: Logger = { log: () => undefined, redact: () => undefined };
