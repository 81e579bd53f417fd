/** The receiver's JSON log lines on stderr, for tests that start `npm run serve` as a process. */
import type { ChildProcess } from "node:child_process";
import * as readline from "node:readline";

/** Collects every log entry, and resolves the port once the receiver logs `listening` (rejects if it exits first). */
export function serveLogs(serve: ChildProcess): { logs: Record<string, unknown>[]; listening: Promise<number> } {
    const logs: Record<string, unknown>[] = [];
    const listening = new Promise<number>((resolve, reject) => {
        readline.createInterface({ input: serve.stderr! }).on("line", (line) => {
            try {
                const entry = JSON.parse(line) as Record<string, unknown>;
                logs.push(entry);
                if (entry.msg === "listening") resolve(entry.port as number);
            } catch {
                // Not a log line (a stack trace): kept out of the assertions.
            }
        });
        serve.once("exit", (code) => reject(new Error(`serve exited early (${code}): ${JSON.stringify(logs)}`)));
    });
    return { logs, listening };
}
