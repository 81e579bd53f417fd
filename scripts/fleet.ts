/**
 * `npm run fleet -- preview|up|check|render [--concurrency N] [--only alias,...]`: one operation over
 * every bank's stack, a few at a time, with progress and a summary table. One bank's failure never
 * stops the others; the exit code is 1 if any failed. `fleet -- operator` writes (and applies) the objects
 * of the fleet on the Pulumi Kubernetes Operator instead (scripts/lib/engine/operator*.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatTable, parseCommand, runCli, usageError } from "./lib/cli";
import { postDeployChecks } from "./lib/onboarding/checks";
import type { RunChecks } from "./lib/onboarding/pipeline";
import { prepareWorkspace } from "./lib/onboarding/workspace";
import { runOffline } from "./lib/engine/offline-run";
import { PulumiCliBackend, pulumiCliMissing, StackBackend } from "./lib/engine/stack-backend";
import { listStacks, ProjectFile, readProject } from "./lib/engine/stack-config";
import { PROJECT_ROOT } from "../domain/project";
import { resolveCommit } from "./lib/git-worktree";
import { driftDetail, driftJson, driftJunit, DriftOutcome } from "./lib/engine/drift";
import { allObjects, applyServerSide, renderOperatorFleet, writeOperatorFleet, yamlStream } from "./lib/engine/operator-render";

const ACTIONS = ["preview", "up", "check", "render", "drift", "operator"] as const;
type Action = (typeof ACTIONS)[number];

const USAGE = `Usage: npm run fleet -- preview|up|check|render [--concurrency N] [--only alias,...]
       npm run fleet -- drift [--json] [--junit FILE] [--concurrency N] [--only alias,...]
       npm run fleet -- operator [--out DIR] [--apply] [--commit SHA] [--only alias,...]

Runs one operation over every stack in stacks/ (or those named by --only):
  preview   pulumi preview per stack (Automation API)
  up        pulumi up per stack
  check     the post-deploy checks on each stack's outputs
  render    the offline render (no Pulumi CLI, no cluster)
  drift     pulumi refresh --preview-only --expect-no-changes per stack: which banks' cluster objects
            differ from their state, and what (resources and properties, never values); changes nothing
  operator  the Pulumi Kubernetes Operator's objects per bank: a pulumi.com/v1 Stack (the program at a
            pinned commit, the shared backend, secrets by reference, refresh and resync from Pulumi.yaml's
            operator* settings), its workspace ServiceAccount and RBAC (only what the bank's render holds);
            checked by our policy, then printed, written (--out) and/or applied server-side (--apply)
Continues past a bank's failure (operator: writes and applies nothing if any bank fails); prints a summary.

Options:
  --concurrency N      stacks at once (default 2)
  --only a,b           only these aliases
  --project DIR        directory of Pulumi.yaml (default the repository)
  --workspaces DIR     per-stack workspace directories (default <project>/.pulumi/workspaces)
  --json               drift: print the report as JSON instead of the table
  --junit FILE         drift: also write a JUnit XML report (a testcase per bank, a failure per drifted one)
  --out DIR            operator: write platform.yaml and <alias>.yaml there (default: print to stdout)
  --apply              operator: kubectl apply --server-side with the kubeconfig's credentials (KUBECONFIG)
  --commit SHA         operator: the program's commit the workspaces run (default the project's HEAD)
  --kubectl PATH       operator: the kubectl to run (default kubectl on PATH)

Exit codes: 0 every stack succeeded (drift: none drifted); 1 at least one failed or drifted; 2 bad usage or an
unknown alias.`;

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
        out: { type: "string" }, apply: { type: "boolean" }, commit: { type: "string" }, kubectl: { type: "string" },
        json: { type: "boolean" }, junit: { type: "string" },
    }, USAGE, { out, err });
    if (typeof args === "number") return args;
    const action = args.positionals[0] as Action;
    if (args.positionals.length !== 1 || !ACTIONS.includes(action)) return usageError({ out, err }, `fleet takes one operation: ${ACTIONS.join(", ")}.`, USAGE);
    const operatorOnly = (["out", "apply", "commit", "kubectl"] as const).filter((o) => args.values[o] !== undefined);
    if (action !== "operator" && operatorOnly.length > 0) return usageError({ out, err }, `--${operatorOnly[0]} is an option of \`fleet -- operator\` only.`, USAGE);
    const driftOnly = (["json", "junit"] as const).filter((o) => args.values[o] !== undefined);
    if (action !== "drift" && driftOnly.length > 0) return usageError({ out, err }, `--${driftOnly[0]} is an option of \`fleet -- drift\` only.`, USAGE);
    if (args.values.junit === "") return usageError({ out, err }, "--junit needs a file name.", USAGE);
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
    if (action === "operator") {
        return operatorCommand(project, stacks, { out: args.values.out, apply: args.values.apply === true, commit: args.values.commit, kubectl: args.values.kubectl, concurrency }, deps, out, err);
    }
    const noCli = action !== "render" && !deps.backendFor ? pulumiCliMissing("use `npm run fleet -- render` (the offline render)", deps.env) : undefined;
    if (noCli) {
        err(`${noCli}\n`);
        return 2;
    }
    const workspacesDir = path.resolve(args.values.workspaces ?? path.join(project.dir, ".pulumi", "workspaces"));
    const backendFor = deps.backendFor ?? ((dir: string) => new PulumiCliBackend(dir));
    const checks = deps.checks ?? postDeployChecks;

    const drifts = new Map<string, DriftOutcome>();
    const runOne = async (stack: string): Promise<string> => {
        if (action === "render") {
            const outcome = await runOffline({ stack, projectDir: project.dir });
            if (!outcome.ok) throw new Error(outcome.error.split("\n").slice(0, 4).join(" | "));
            return `${outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length} resources`;
        }
        const handle = await backendFor(prepareWorkspace(project, stack, workspacesDir)).selectOrCreate(stack);
        if (action === "drift") {
            if (!handle.refreshPreview) throw new Error("this backend cannot preview a refresh");
            const started = Date.now();
            const found = await handle.refreshPreview();
            const outcome: DriftOutcome = { stack, status: found.drifted.length ? "drifted" : "in-sync", resources: found.drifted, ms: Date.now() - started };
            drifts.set(stack, outcome);
            if (found.drifted.length > 0) throw new Error(`DRIFTED: ${driftDetail(outcome)}`);
            return driftDetail(outcome);
        }
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
            if (!live) err(`${stack}: ${outcome.ok ? "ok" : drifts.get(stack)?.status === "drifted" ? "DRIFTED" : "FAILED"} (${(outcome.ms / 1000).toFixed(1)} s)\n`);
            draw();
        }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, stacks.length) }, worker));
    if (live) err("\n");
    outcomes.sort((a, b) => a.stack.localeCompare(b.stack));
    if (action === "drift") return driftReport(outcomes, drifts, { json: args.values.json === true, junit: args.values.junit }, out, err);
    out(formatTable(["STACK", "RESULT", "SECONDS", "DETAIL"], outcomes.map((x) => [x.stack, x.ok ? "ok" : "FAILED", (x.ms / 1000).toFixed(1), x.detail])));
    const failed = outcomes.filter((x) => !x.ok).length;
    out(`\n${action}: ${outcomes.length - failed} of ${outcomes.length} stacks ok${failed ? `, ${failed} failed` : ""}\n`);
    return failed ? 1 : 0;
}

/** `fleet -- drift`'s ending: the table or JSON, the JUnit file; exit 1 when a bank drifted or could not be checked. */
function driftReport(outcomes: Outcome[], drifts: Map<string, DriftOutcome>, opts: { json: boolean; junit?: string }, out: (t: string) => void, err: (t: string) => void): number {
    const all: DriftOutcome[] = outcomes.map((o) => drifts.get(o.stack) ?? { stack: o.stack, status: "error", resources: [], error: o.detail, ms: o.ms });
    if (opts.json) out(driftJson(all));
    else {
        const result = (d: DriftOutcome) => (d.status === "in-sync" ? "ok" : d.status === "drifted" ? "DRIFTED" : "ERROR");
        out(formatTable(["STACK", "RESULT", "SECONDS", "DETAIL"], all.map((d) => [d.stack, result(d), (d.ms / 1000).toFixed(1), driftDetail(d)])));
    }
    const drifted = all.filter((d) => d.status === "drifted").length;
    const errors = all.filter((d) => d.status === "error").length;
    if (opts.junit) {
        try {
            fs.writeFileSync(opts.junit, driftJunit(all));
        } catch (e) {
            err(`--junit ${opts.junit}: ${(e as Error).message}\n`);
            return 1;
        }
    }
    (opts.json ? err : out)(`\ndrift: ${all.length - drifted - errors} of ${all.length} stacks in sync${drifted ? `, ${drifted} drifted` : ""}${errors ? `, ${errors} could not be checked` : ""}\n`);
    return drifted || errors ? 1 : 0;
}

/** `fleet -- operator`: every bank rendered and checked first; then printed, written and/or applied, all or nothing. */
async function operatorCommand(
    project: ProjectFile, stacks: string[], opts: { out?: string; apply: boolean; commit?: string; kubectl?: string; concurrency: number },
    deps: FleetDeps, out: (t: string) => void, err: (t: string) => void,
): Promise<number> {
    let commit = opts.commit;
    if (commit !== undefined && !/^[0-9a-f]{40}$/.test(commit)) {
        err(`--commit must be a full 40-hex commit id (a branch or short id would move under a running fleet); got '${commit}'\n`);
        return 2;
    }
    if (commit === undefined) {
        const head = resolveCommit(project.dir, "HEAD", "--commit (default HEAD)");
        if ("error" in head) {
            err(`${head.error} Pass --commit SHA.\n`);
            return 2;
        }
        commit = head.commit;
    }
    let fleet;
    try {
        fleet = await renderOperatorFleet(project, stacks, { commit }, { concurrency: opts.concurrency, progress: (l) => err(`${l}\n`) });
    } catch (e) {
        err(`${(e as Error).message}\n`);
        return 1;
    }
    const objects = allObjects(fleet);
    if (fleet.unpullable.length > 0) {
        const [{ problem }] = fleet.unpullable;
        const banks = fleet.unpullable.map((u) => u.alias).join(", ");
        if (opts.apply) {
            err(`${problem}\n(banks: ${banks}). Nothing applied: set operatorWorkspaceImage in Pulumi.yaml to the real digest first.\n`);
            return 2;
        }
        err(`WARNING: ${problem} (banks: ${banks}); --apply refuses until it is set\n`);
    }
    if (opts.out !== undefined) {
        try {
            const files = writeOperatorFleet(fleet, opts.out);
            err(`wrote ${files.length} files to ${opts.out}\n`);
        } catch (e) {
            err(`${(e as Error).message}\n`);
            return 1;
        }
    } else if (!opts.apply) {
        out(yamlStream(objects));
    }
    if (opts.apply) {
        try {
            await applyServerSide(objects, { kubectl: opts.kubectl, env: deps.env });
        } catch (e) {
            err(`${(e as Error).message}\n`);
            return 1;
        }
    }
    const summary = formatTable(["BANK", "STACK", "OBJECTS", "COMMIT"], fleet.banks.map((b) => [b.alias, `${fleet.operator.namespace}/${b.stackName}`, String(b.objects.length), commit!.slice(0, 12)]));
    (opts.out !== undefined || opts.apply ? out : err)(summary);
    (opts.out !== undefined || opts.apply ? out : err)(`\noperator: ${fleet.banks.length} banks, ${objects.length} objects${opts.apply ? ", applied server-side" : ""}\n`);
    return 0;
}

function changes(summary: Record<string, number | undefined>): string {
    return Object.entries(summary).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(", ") || "no changes";
}

if (require.main === module) runCli((argv) => main(argv));
