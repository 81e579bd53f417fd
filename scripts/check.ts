/**
 * `npm run check -- <stack> [options]`: after `pulumi up`, checks a bank's environment step by step of the
 * integration plan (hosts, TLS, frontend, Kratos, JWKS, the bank's key keeper, the API scenario).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCommand, runCli, usageError } from "./lib/cli";
import { parseDuration } from "./lib/checks/duration";
import { InputError, InputProblems, problemsOf } from "./lib/checks/errors";
import { parseResolve } from "./lib/checks/http";
import { formatCheckTable } from "./lib/checks/report/table";
import { jsonReport } from "./lib/checks/report/json";
import { junitXml } from "./lib/checks/report/junit";
import { progressReporter, ProgressWriter } from "./lib/checks/report/progress";
import { stackFacts } from "./lib/checks/outputs";
import { Redactor } from "../domain/redact";
import { addOutputSecrets, checkGroups, DEFAULT_SCENARIO, runChecks, selectChecks } from "./lib/checks/runner";
import type { StackBackend } from "./lib/engine/stack-backend";
import { PROJECT_ROOT } from "../domain/project";

const USAGE = `Usage: npm run check -- <stack> [options]

Checks a deployed bank environment against the integration plan and prints a table
(check, plan step, result, time, reason). Secrets are never printed.

Options:
  --outputs FILE|-        the JSON of \`pulumi stack output --json --show-secrets -s <stack>\`
                          (- reads it from stdin, so the secrets never touch the disk;
                          default: ask the Pulumi CLI for the stack's outputs)
  --resolve H:P:ADDR[:P2] pin host H port P to address ADDR (like curl; repeatable);
                          an optional fourth part connects to port P2 instead (port-forwards)
  --ca FILE               trust this CA (PEM) besides the system roots and NODE_EXTRA_CA_CERTS (repeatable)
  --junit FILE            write a JUnit XML report
  --json FILE             write a JSON report
  --only IDS              run only these checks (comma-separated ids or prefix*)
  --skip IDS              skip these checks
  --deadline DURATION     stop retrying transient failures after this (default 2m)
  --timeout DURATION      longest single attempt of a check (default 10s)
  --scenario FILE         the API scenario for plan steps 12-16 (default scenarios/integration.yaml)
  --list                  list the check ids and exit
  -h, --help

Exit codes: 0 every check passed; 1 a check failed; 2 bad usage or invalid input.`;

export interface CheckDeps {
    backend?: StackBackend;
    stdout?: ProgressWriter;
    stderr?: ProgressWriter;
    /** Where `--outputs -` reads from; default process.stdin. */
    stdin?: NodeJS.ReadableStream;
}

const list = (values: string[] | undefined) => (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);

/** Longest outputs document read from stdin (a stack's outputs are a few kilobytes). */
const MAX_STDIN = 4 << 20;

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stdin) {
        const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk as Buffer;
        size += b.length;
        if (size > MAX_STDIN) throw new InputError("--outputs", `stdin holds more than ${MAX_STDIN} bytes: not a stack's outputs`);
        chunks.push(b);
    }
    return Buffer.concat(chunks).toString("utf8");
}

async function stackOutputs(stack: string, file: string | undefined, backend: StackBackend | undefined, stdin: NodeJS.ReadableStream): Promise<Record<string, unknown>> {
    if (file) {
        const source = file === "-" ? "stdin" : file;
        let text: string;
        try {
            text = file === "-" ? await readStdin(stdin) : fs.readFileSync(file, "utf8");
        } catch (e) {
            if (e instanceof InputError) throw e;
            throw new InputError("--outputs", `cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        try {
            return JSON.parse(text) as Record<string, unknown>;
        } catch (e) {
            // Not the parser's message: it quotes the text, which may hold a secret.
            throw new InputError("--outputs", `${source} is not JSON (${e instanceof SyntaxError ? "malformed" : "unreadable"}): pass the JSON of \`pulumi stack output --json --show-secrets\``);
        }
    }
    try {
        const handle = await backend!.selectOrCreate(stack);
        return Object.fromEntries(Object.entries(await handle.outputs()).map(([k, o]) => [k, o.value]));
    } catch (e) {
        const text = e instanceof Error ? e.message : String(e);
        if (/ENOENT/.test(text)) throw new InputError("--outputs", "not given, and the Pulumi CLI is not installed: pass the JSON of `pulumi stack output --json --show-secrets`");
        throw new Error(`reading stack '${stack}' outputs through the Pulumi CLI failed: ${text.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 3).join(" ")}`);
    }
}

/** A report path must be writable before anything runs: a path found bad after the run would lose it. */
function checkReportPath(flag: string, file: string | undefined): void {
    if (!file) return;
    const target = path.resolve(file);
    const dir = path.dirname(target);
    const fail = (why: string): never => {
        throw new InputError(flag, `cannot write ${file}: ${why}`);
    };
    const explain = (e: unknown): string => {
        const code = (e as NodeJS.ErrnoException).code ?? "";
        if (code === "ENOENT") return `no directory ${dir}`;
        if (code === "ENOTDIR") return `${dir} is not a directory`;
        if (code === "EACCES" || code === "EPERM" || code === "EROFS") return "permission denied";
        return code || (e as Error).message;
    };
    let stat: fs.Stats | undefined;
    try {
        stat = fs.statSync(target);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") fail(explain(e));
    }
    if (stat?.isDirectory()) fail("it is a directory");
    try {
        if (!fs.statSync(dir).isDirectory()) fail(`${dir} is not a directory`);
        fs.accessSync(stat ? target : dir, fs.constants.W_OK);
    } catch (e) {
        if (e instanceof InputError) throw e;
        fail(explain(e));
    }
}

/** A writer whose every write passes the redactor (the last guard on stdout, stderr and progress). */
function redacting(out: ProgressWriter, redactor: Redactor): ProgressWriter {
    return { write: (text: string) => out.write(redactor.redact(text)), isTTY: out.isTTY };
}

export async function main(argv: string[], deps: CheckDeps = {}): Promise<number> {
    const redactor = new Redactor();
    const stdout = redacting(deps.stdout ?? process.stdout, redactor);
    const stderr = redacting(deps.stderr ?? process.stderr, redactor);
    const io = { out: (t: string) => { stdout.write(t); }, err: (t: string) => { stderr.write(t); } };
    const args = parseCommand(argv, {
        outputs: { type: "string" }, resolve: { type: "string", multiple: true }, ca: { type: "string", multiple: true },
        junit: { type: "string" }, json: { type: "string" }, only: { type: "string", multiple: true }, skip: { type: "string", multiple: true },
        deadline: { type: "string" }, timeout: { type: "string" }, scenario: { type: "string" }, list: { type: "boolean" },
    }, USAGE, io);
    if (typeof args === "number") return args;
    const v = args.values;
    const scenarioFile = path.resolve(v.scenario ?? DEFAULT_SCENARIO);
    try {
        if (v.list) {
            const ids = selectChecks(checkGroups(scenarioFile), list(v.only), list(v.skip)).flatMap((g) => ("chain" in g ? g.chain : [g]));
            const idWidth = Math.max(...ids.map((c) => c.id.length));
            const stepWidth = Math.max(...ids.map((c) => c.step.length));
            stdout.write(ids.map((c) => `${c.id.padEnd(idWidth)}  step ${c.step.padEnd(stepWidth)}  ${c.title}`).join("\n") + "\n");
            return 0;
        }
        if (args.positionals.length !== 1) return usageError(io, "check takes exactly one stack name.", USAGE);
        const stack = args.positionals[0];
        // Every problem of the flags and the outputs is reported at once, before anything runs.
        const problems = new InputProblems();
        const valid = problems.check.bind(problems);
        const deadlineMs = v.deadline ? valid(() => parseDuration(v.deadline!, "--deadline")) : undefined;
        const timeoutMs = v.timeout ? valid(() => parseDuration(v.timeout!, "--timeout")) : undefined;
        valid(() => parseResolve(v.resolve ?? []));
        const caPem = (v.ca ?? []).flatMap((file) => valid(() => {
            let pem: string;
            try {
                pem = fs.readFileSync(file, "utf8");
            } catch (e) {
                throw new InputError("--ca", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
            }
            if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new InputError("--ca", `${file} is not a PEM certificate (BEGIN CERTIFICATE)`);
            return [pem];
        }) ?? []);
        valid(() => checkReportPath("--junit", v.junit));
        valid(() => checkReportPath("--json", v.json));
        if (v.junit && v.json && path.resolve(v.junit) === path.resolve(v.json)) problems.add(new InputError("--json", "is the same file as --junit"));
        // The scenario file and the --only/--skip patterns.
        const only = list(v.only);
        const skip = list(v.skip);
        const selected = valid(() => selectChecks(checkGroups(scenarioFile), only, skip));
        let outputs: Record<string, unknown> | undefined;
        if (v.outputs) {
            // A file (or stdin) is read now, so its problems join the flags'; the CLI is asked only for good flags.
            try {
                outputs = await stackOutputs(stack, v.outputs, undefined, deps.stdin ?? process.stdin);
            } catch (e) {
                problems.add(e);
            }
            // Registered before they are validated: no problem's message may print them.
            if (outputs) addOutputSecrets(redactor, outputs);
            if (outputs) valid(() => stackFacts(outputs, stack));
        }
        if (problems.all.length) {
            for (const p of problems.all) stderr.write(`invalid input: ${p.message}\n`);
            return 2;
        }
        const total = selected!.flatMap((g) => ("chain" in g ? g.chain : [g])).length;
        // The Automation API is heavy to load: only when the outputs come from the CLI.
        const cli = deps.backend || v.outputs ? undefined : require("./lib/engine/stack-backend") as typeof import("./lib/engine/stack-backend");
        const noCli = cli?.pulumiCliMissing("pass --outputs FILE: the JSON of `pulumi stack output --json --show-secrets`");
        if (noCli) throw new InputError("--outputs", `not given, and ${noCli}`);
        const backend = deps.backend ?? (cli ? new cli.PulumiCliBackend(PROJECT_ROOT) : undefined);
        outputs ??= await stackOutputs(stack, v.outputs, backend, deps.stdin ?? process.stdin);
        stderr.write(`Checking stack '${stack}' (${total} checks)...\n`);
        const progress = progressReporter(stderr, total);
        const report = await runChecks({
            stack, outputs, resolve: v.resolve, caPem, only, skip, deadlineMs, timeoutMs, scenarioFile, onProgress: progress.onProgress, redactor,
        });
        progress.finish();
        stdout.write(`\n${formatCheckTable(report)}`);
        for (const [flag, file, text] of [["--junit", v.junit, junitXml], ["--json", v.json, jsonReport]] as const) {
            if (!file) continue;
            try {
                fs.writeFileSync(file, redactor.redact(text(report)));
            } catch (e) {
                throw new InputError(flag, `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? "write failed"}`);
            }
        }
        return report.passed ? 0 : 1;
    } catch (e) {
        if (e instanceof InputError) {
            for (const p of problemsOf(e)) stderr.write(`invalid input: ${p.message}\n`);
            return 2;
        }
        // Through the redacting stderr, not runCli's: an unexpected error's message passes the redactor too.
        stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
        return 1;
    }
}

if (require.main === module) runCli((argv) => main(argv));
