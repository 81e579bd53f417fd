/**
 * `npm run test:fast`: the in-process tests, for feedback in well under a minute (`npm test` still runs every
 * test). A test file is slow when it matches a line of test/slow-tests.txt (it forks a render, a CLI or a
 * worker, or says `@slow`); the fast ones run in two processes side by side: the files that install Pulumi's
 * mock runtime (process-wide) each in its own, under node --test; the rest together in one (support/in-process.ts),
 * so the modules they share are compiled once. Exit code 0 when every test passed, 1 otherwise.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../domain/project";
import { CommandIo, parseCommand, processIo, runCli } from "../scripts/lib/cli";

const USAGE = `Usage: npm run test:fast

Runs the in-process tests: every test file under test/ (but test/real/) that matches no line of
test/slow-tests.txt (a render, a CLI or a worker forked, or \`@slow\`). The files that install Pulumi's mock
runtime run each in its own process, the rest together in one, both side by side. npm test runs every test;
npm run test:slow the slow ones.

Exit codes: 0 every test passed; 1 a test failed; 2 bad usage.`;

/** Every unit test file (test/real/ is `npm run test:real`'s), sorted. */
export function unitTestFiles(dir = path.join(PROJECT_ROOT, "test")): string[] {
    return fs.readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? (e.name === "real" && dir === path.join(PROJECT_ROOT, "test") ? [] : unitTestFiles(path.join(dir, e.name))) : e.name.endsWith(".test.ts") ? [path.join(dir, e.name)] : []))
        .sort();
}

/** The fast files, split into those sharing one process and those needing their own. */
export function fastGroups(files = unitTestFiles()): { shared: string[]; isolated: string[]; slow: string[] } {
    const patterns = fs.readFileSync(path.join(PROJECT_ROOT, "test", "slow-tests.txt"), "utf8").split("\n").filter(Boolean).map((p) => new RegExp(p));
    const groups = { shared: [] as string[], isolated: [] as string[], slow: [] as string[] };
    for (const file of files) {
        const text = fs.readFileSync(file, "utf8");
        const group = patterns.some((p) => p.test(text)) ? "slow" : /\bsetMocks\(/.test(text) ? "isolated" : "shared";
        groups[group].push(path.relative(PROJECT_ROOT, file));
    }
    return groups;
}

function run(args: string[]): Promise<{ code: number; output: string; seconds: number }> {
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", ...args], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d) => { output += d; });
        child.stderr.on("data", (d) => { output += d; });
        child.on("close", (code) => resolve({ code: code ?? 1, output, seconds: (Date.now() - started) / 1000 }));
    });
}

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
    const args = parseCommand(argv, {}, USAGE, io, false);
    if (typeof args === "number") return args;
    const started = Date.now();
    const { shared, isolated, slow } = fastGroups();
    const [a, b] = await Promise.all([
        run([path.join(PROJECT_ROOT, "support", "in-process.ts"), ...shared]),
        run(["--test", "--test-concurrency=2", "--test-timeout=60000", ...isolated]),
    ]);
    io.out(a.output + b.output);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    io.out(`test:fast: ${shared.length + isolated.length} files (${shared.length} in one process, ${isolated.length} on their own) in ${seconds} s (${a.seconds.toFixed(1)} s and ${b.seconds.toFixed(1)} s); ${slow.length} slow files left to npm test\n`);
    return a.code === 0 && b.code === 0 ? 0 : 1;
}

if (require.main === module) runCli(main);
