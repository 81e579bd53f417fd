/**
 * Child processes of the real-component tests: output kept (for the assertion message, never printed
 * unasked), stopped by the test or, at the latest, when the test process exits.
 */
import { ChildProcess, spawn, SpawnOptions } from "node:child_process";
import * as net from "node:net";

const running = new Set<ChildProcess>();
process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
});

export interface Running {
    readonly child: ChildProcess;
    /** stdout and stderr, interleaved. */
    output(): string;
    /** Resolves with the exit code once the process has ended. */
    readonly exited: Promise<number | null>;
    /** SIGTERM, then SIGKILL after `graceMs`. */
    stop(graceMs?: number): Promise<void>;
}

export function start(command: string, args: string[], options: SpawnOptions = {}): Running {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    running.add(child);
    let output = "";
    child.stdout?.on("data", (d) => { output += d; });
    child.stderr?.on("data", (d) => { output += d; });
    const exited = new Promise<number | null>((resolve) => {
        child.on("error", (e) => { output += `\n${e.message}`; running.delete(child); resolve(-1); });
        child.on("exit", (code) => { running.delete(child); resolve(code); });
    });
    return {
        child,
        output: () => output,
        exited,
        async stop(graceMs = 5000) {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
            await exited;
            clearTimeout(timer);
        },
    };
}

/**
 * Runs a command to its end; rejects on a non-zero exit with the command's output.
 * @param input written to its stdin (then closed): a secret given this way is on no command line (ps, this error message)
 */
export async function run(command: string, args: string[], options: SpawnOptions = {}, timeoutMs = 120_000, input?: string): Promise<string> {
    const p = start(command, args, input === undefined ? options : { ...options, stdio: ["pipe", "pipe", "pipe"] });
    if (input !== undefined) p.child.stdin?.end(input);
    const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
    const code = await p.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}:\n${p.output()}`);
    return p.output();
}

/**
 * A loopback port free right now. The real servers (Kratos, PostgreSQL, nginx) take their port from config
 * and do not report a kernel-chosen one, so the caller starts them on it and retries on a bind race.
 */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Polls `probe` until it returns true, the process dies, or the deadline passes. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, proc?: Running, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let dead = false;
    void proc?.exited.then(() => { dead = true; });
    while (Date.now() < deadline) {
        if (dead) throw new Error(`${what}: the process ended first:\n${proc?.output().slice(-4000)}`);
        if (await probe().catch(() => false)) return;
        await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`${what}: not ready after ${timeoutMs} ms${proc ? `:\n${proc.output().slice(-4000)}` : ""}`);
}
