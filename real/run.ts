/** Child processes for real:setup: output to a log file (builds print thousands of lines), exit code back. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";

export interface RunOptions {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    /** Output (stdout and stderr) is appended here; without it, it is collected and returned. */
    logFile?: string;
}

export interface RunResult {
    code: number;
    /** Collected output when no logFile was given; the log's last lines otherwise. */
    output: string;
}

export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const log = options.logFile ? fs.openSync(options.logFile, "a") : undefined;
    try {
        if (log !== undefined) fs.writeSync(log, `$ ${[command, ...args].join(" ")}\n`);
        const output = await new Promise<{ code: number; text: string }>((resolve) => {
            const child = spawn(command, args, {
                cwd: options.cwd,
                env: options.env ?? process.env,
                stdio: ["ignore", log ?? "pipe", log ?? "pipe"],
            });
            let text = "";
            child.stdout?.on("data", (d) => { text += d; });
            child.stderr?.on("data", (d) => { text += d; });
            child.on("error", (e) => resolve({ code: 127, text: `${text}${e.message}\n` }));
            child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), text }));
        });
        return { code: output.code, output: log !== undefined ? tail(options.logFile!, 20) : output.text };
    } finally {
        if (log !== undefined) fs.closeSync(log);
    }
}

/** Runs and throws with the command and its last output lines when it fails. */
export async function runChecked(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
    const result = await run(command, args, options);
    if (result.code !== 0) {
        const where = options.logFile ? ` (log: ${options.logFile})` : "";
        throw new Error(`\`${[command, ...args].join(" ")}\` exited ${result.code}${where}:\n${result.output.trimEnd()}`);
    }
    return result.output;
}

/** The last `lines` lines of a file. */
export function tail(file: string, lines: number): string {
    try {
        return fs.readFileSync(file, "utf8").split("\n").slice(-lines - 1).join("\n");
    } catch {
        return "";
    }
}
