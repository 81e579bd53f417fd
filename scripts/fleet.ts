/**
 * `npm run fleet -- preview|up|check|render [--concurrency N] [--only alias,...]`: one operation over
 * every bank's stack, a few at a time, with progress and a summary table. One bank's failure never
 * stops the others; the exit code is 1 if any failed.
 */
import * as path from "node:path";
import { formatTable, parseCommand, runCli, usageError } from "./lib/cli";
import { postDeployChecks } from "./lib/onboarding/checks";
import type { RunChecks } from "./lib/onboarding/pipeline";
import { prepareWorkspace } from "./lib/onboarding/workspace";
import { runOffline } from "./lib/engine/offline-run";
import { PulumiCliBackend, pulumiCliMissing, StackBackend } from "./lib/engine/stack-backend";
import { listStacks, ProjectFile, readProject } from "./lib/engine/stack-config";
import { PROJECT_ROOT } from "../domain/project";

const ACTIONS = ["preview", "up", "check", "render"] as const;
type Action = (typeof ACTIONS)[number];

const USAGE = `Usage: npm run fleet -- preview|up|check|render [--concurrency N] [--only alias,...]

Runs one operation over every stack in stacks/ (or those named by --only):
  preview   pulumi preview per stack (Automation API)
  up        pulumi up per stack
  check     the post-deploy checks on each stack's outputs
  render    the offline render (no Pulumi CLI, no cluster)
Continues past a bank's failure; prints a summary table.

Options:
  --concurrency N      stacks at once (default 2)
  --only a,b           only these aliases
  --project DIR        directory of Pulumi.yaml (default the repository)
  --workspaces DIR     per-stack workspace directories (default <project>/.pulumi/workspaces)

Exit codes: 0 every stack succeeded; 1 at least one failed; 2 bad usage or an unknown alias.`;

export interface FleetDeps {
    backendFor?: (workspaceDir: string) => StackBackend;
    checks?: RunChecks;
    out?: (text: string) => void;
    err?: (text: string) => void;
    /** Live progress line (default: when stderr is a TTY). */
    tty?: boolean;
    /** The environment whose PATH must hold the Pulumi CLI (default process.env). */
    env?: NodeJS.ProcessEnv;
}

interface Outcome {
    stack: string;
    ok: boolean;
    detail: string;
    ms: number;
}

export async function main(argv: string[], deps: FleetDeps = {}): Promise<number> {
    const out = deps.out ?? ((t: string) => process.stdout.write(t));
    const err = deps.err ?? ((t: string) => process.stderr.write(t));
    const args = parseCommand(argv, {
        concurrency: { type: "string" }, only: { type: "string" }, project: { type: "string" }, workspaces: { type: "string" },
    }, USAGE, { out, err });
    if (typeof args === "number") return args;
    const action = args.positionals[0] as Action;
    if (args.positionals.length !== 1 || !ACTIONS.includes(action)) return usageError({ out, err }, `fleet takes one operation: ${ACTIONS.join(", ")}.`, USAGE);
    const concurrency = Number(args.values.concurrency ?? "2");
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        err(`--concurrency must be an integer from 1 to 64; got '${args.values.concurrency}'\n`);
        return 2;
    }
    let project: ProjectFile;
    let stacks: string[];
    try {
        project = readProject(path.resolve(args.values.project ?? PROJECT_ROOT));
        stacks = listStacks(project);
    } catch (e) {
        err(`${(e as Error).message}\n`);
        return 2;
    }
    if (args.values.only !== undefined) {
        const only = args.values.only.split(",").map((s) => s.trim()).filter(Boolean);
        const unknown = only.filter((s) => !stacks.includes(s));
        if (only.length === 0 || unknown.length > 0) {
            err(`--only: ${unknown.length ? `no stack file for ${unknown.map((u) => `'${u}'`).join(", ")}` : "name at least one alias"} (stacks: ${stacks.join(", ")})\n`);
            return 2;
        }
        stacks = stacks.filter((s) => only.includes(s));
    }
    if (stacks.length === 0) {
        err(`no stacks in ${path.relative(process.cwd(), project.stackConfigDir) || "."}\n`);
        return 2;
    }
    const noCli = action !== "render" && !deps.backendFor ? pulumiCliMissing("use `npm run fleet -- render` (the offline render)", deps.env) : undefined;
    if (noCli) {
        err(`${noCli}\n`);
        return 2;
    }
    const workspacesDir = path.resolve(args.values.workspaces ?? path.join(project.dir, ".pulumi", "workspaces"));
    const backendFor = deps.backendFor ?? ((dir: string) => new PulumiCliBackend(dir));
    const checks = deps.checks ?? postDeployChecks;

    const runOne = async (stack: string): Promise<string> => {
        if (action === "render") {
            const outcome = await runOffline({ stack, projectDir: project.dir });
            if (!outcome.ok) throw new Error(outcome.error.split("\n").slice(0, 4).join(" | "));
            return `${outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length} resources`;
        }
        const handle = await backendFor(prepareWorkspace(project, stack, workspacesDir)).selectOrCreate(stack);
        if (action === "preview") return changes(await handle.preview());
        if (action === "up") return changes(await handle.up());
        const outputs = await handle.outputs();
        if (Object.keys(outputs).length === 0) throw new Error("the stack has no outputs (never deployed?)");
        // The platform setting (Pulumi.yaml) that lets key keepers live on private addresses.
        const allowPrivateKeyKeeper = String(project.defaults.allowPrivateKeyKeeper) === "true";
        const report = await checks(stack, Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.value])), { allowPrivateKeyKeeper });
        const failed = report.results.filter((r) => r.status === "fail");
        const passed = report.results.filter((r) => r.status === "pass").length;
        const summary = `${passed} passed, ${failed.length} failed, ${report.results.length - passed - failed.length} skipped`;
        if (!report.passed) throw new Error(`${summary}: ${failed.map((f) => `${f.id} (${f.reason ?? "failed"})`).join("; ").slice(0, 300)}`);
        return summary;
    };

    const live = deps.tty ?? Boolean(process.stderr.isTTY);
    const running = new Set<string>();
    const outcomes: Outcome[] = [];
    const draw = () => {
        if (live) err(`\r\x1b[K${action}: ${outcomes.length}/${stacks.length} done${outcomes.some((x) => !x.ok) ? ` (${outcomes.filter((x) => !x.ok).length} failed)` : ""}; running: ${[...running].join(", ") || "-"}`);
    };
    const queue = [...stacks];
    const worker = async () => {
        for (let stack = queue.shift(); stack !== undefined; stack = queue.shift()) {
            running.add(stack);
            if (!live) err(`${stack}: ${action} started\n`);
            draw();
            const started = Date.now();
            let outcome: Outcome;
            try {
                outcome = { stack, ok: true, detail: await runOne(stack), ms: Date.now() - started };
            } catch (e) {
                outcome = { stack, ok: false, detail: (e as Error).message.split("\n")[0].slice(0, 400), ms: Date.now() - started };
            }
            running.delete(stack);
            outcomes.push(outcome);
            if (!live) err(`${stack}: ${outcome.ok ? "ok" : "FAILED"} (${(outcome.ms / 1000).toFixed(1)} s)\n`);
            draw();
        }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, stacks.length) }, worker));
    if (live) err("\n");
    outcomes.sort((a, b) => a.stack.localeCompare(b.stack));
    out(formatTable(["STACK", "RESULT", "SECONDS", "DETAIL"], outcomes.map((x) => [x.stack, x.ok ? "ok" : "FAILED", (x.ms / 1000).toFixed(1), x.detail])));
    const failed = outcomes.filter((x) => !x.ok).length;
    out(`\n${action}: ${outcomes.length - failed} of ${outcomes.length} stacks ok${failed ? `, ${failed} failed` : ""}\n`);
    return failed ? 1 : 0;
}

function changes(summary: Record<string, number | undefined>): string {
    return Object.entries(summary).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(", ") || "no changes";
}

if (require.main === module) runCli((argv) => main(argv));
