/**
 * `npm run check -- <stack> [options]`: after `pulumi up`, checks a bank's environment step by step of the
 * integration plan (hosts, TLS, frontend, Kratos, JWKS, the bank's key keeper, the API scenario).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCommand, runCli, usageError } from "./lib/cli";
import { parseDuration } from "./lib/checks/duration";
import { InputError } from "./lib/checks/errors";
import { parseResolve } from "./lib/checks/http";
import { formatCheckTable } from "./lib/checks/report/table";
import { jsonReport } from "./lib/checks/report/json";
import { junitXml } from "./lib/checks/report/junit";
import { progressReporter, ProgressWriter } from "./lib/checks/report/progress";
import { checkGroups, DEFAULT_SCENARIO, runChecks, selectChecks } from "./lib/checks/runner";
import type { StackBackend } from "./lib/stack-backend";

const USAGE = `Usage: npm run check -- <stack> [options]

Checks a deployed bank environment against the integration plan and prints a table
(check, plan step, result, time, reason). Secrets are never printed.

Options:
  --outputs FILE          the JSON of \`pulumi stack output --json --show-secrets -s <stack>\`
                          (default: ask the Pulumi CLI for the stack's outputs)
  --resolve H:P:ADDR[:P2] pin host H port P to address ADDR (like curl; repeatable);
                          an optional fourth part connects to port P2 instead (port-forwards)
  --ca FILE               trust this CA (PEM) besides the system roots (repeatable)
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
}

const list = (values: string[] | undefined) => (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);

async function stackOutputs(stack: string, file: string | undefined, backend: StackBackend | undefined): Promise<Record<string, unknown>> {
    if (file) {
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (e) {
            throw new InputError("--outputs", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        try {
            return JSON.parse(text) as Record<string, unknown>;
        } catch (e) {
            throw new InputError("--outputs", `${file} is not JSON (${(e as Error).message.split("\n")[0]})`);
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

export async function main(argv: string[], deps: CheckDeps = {}): Promise<number> {
    const stdout = deps.stdout ?? process.stdout;
    const stderr = deps.stderr ?? process.stderr;
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
            stdout.write(ids.map((c) => `${c.id.padEnd(36)} step ${c.step.padEnd(6)} ${c.title}`).join("\n") + "\n");
            return 0;
        }
        if (args.positionals.length !== 1) return usageError(io, "check takes exactly one stack name.", USAGE);
        const stack = args.positionals[0];
        const deadlineMs = v.deadline ? parseDuration(v.deadline, "--deadline") : undefined;
        const timeoutMs = v.timeout ? parseDuration(v.timeout, "--timeout") : undefined;
        parseResolve(v.resolve ?? []);
        const caPem = (v.ca ?? []).map((file) => {
            try {
                return fs.readFileSync(file, "utf8");
            } catch (e) {
                throw new InputError("--ca", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
            }
        });
        for (const file of caPem) if (!file.includes("-----BEGIN CERTIFICATE-----")) throw new InputError("--ca", "is not a PEM certificate (BEGIN CERTIFICATE)");
        const only = list(v.only);
        const skip = list(v.skip);
        const total = selectChecks(checkGroups(scenarioFile), only, skip).flatMap((g) => ("chain" in g ? g.chain : [g])).length;
        // The Automation API is heavy to load: only when the outputs come from the CLI.
        const backend = deps.backend ?? (v.outputs ? undefined : new (require("./lib/stack-backend") as typeof import("./lib/stack-backend")).PulumiCliBackend(path.resolve(__dirname, "..")));
        const outputs = await stackOutputs(stack, v.outputs, backend);
        stderr.write(`Checking stack '${stack}' (${total} checks)...\n`);
        const progress = progressReporter(stderr, total);
        const report = await runChecks({
            stack, outputs, resolve: v.resolve, caPem, only, skip, deadlineMs, timeoutMs, scenarioFile, onProgress: progress.onProgress,
        });
        progress.finish();
        stdout.write(`\n${formatCheckTable(report)}`);
        if (v.junit) fs.writeFileSync(v.junit, junitXml(report));
        if (v.json) fs.writeFileSync(v.json, jsonReport(report));
        return report.passed ? 0 : 1;
    } catch (e) {
        if (e instanceof InputError) {
            stderr.write(`invalid input: ${e.message}\n`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) runCli((argv) => main(argv));
