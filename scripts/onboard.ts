/**
 * `npm run onboard -- --jira FILE|-`: onboards a bank from a Jira ticket's data (a Jira Automation
 * "Send web request" body or a Jira webhook body): validate, write the stack file, preview, up, check,
 * and comment the result on the ticket.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCommand, runCli, usageError } from "./lib/cli";
import { formatCheckTable } from "./lib/checks";
import { JIRA_ENV, JiraClient } from "./lib/jira/client";
import { CheckReportLike, TicketReporter } from "./lib/onboarding/comment";
import { loadMapping } from "./lib/onboarding/mapping";
import { parseDelivery } from "./lib/onboarding/payload";
import { onboard, OnboardingResult, RunChecks } from "./lib/onboarding/pipeline";
import { OfflineStackBackend } from "./lib/engine/offline-stack-backend";
import { PulumiCliBackend, pulumiCliMissing, StackBackend } from "./lib/engine/stack-backend";
import { ProjectFile, readProject, stackFilePath } from "./lib/engine/stack-config";
import { postDeployChecks } from "./lib/onboarding/checks";
import { prepareTrialProject } from "./lib/onboarding/trial";
import { PROJECT_ROOT } from "../domain/project";

const USAGE = `Usage: npm run onboard -- --jira FILE|- [options]

Onboards a bank from its Jira ticket: the body of a Jira Automation "Send web request"
(issue data with key and fields) or of a Jira webhook (webhookEvent and issue), from FILE or stdin (-).
  1. maps the ticket's fields (--mapping) and validates them like the stack config
  2. writes stacks/Pulumi.<alias>.yaml (ticket key recorded; never another bank's file)
  3. creates or selects the stack, previews, and (unless --dry-run) runs up
  4. runs the post-deploy checks
  5. comments hosts, JWKS URL, public key, kid and the check table on the ticket (no secret)

Options:
  --jira FILE|-        the delivery's JSON body
  --mapping FILE       field mapping (default jira-mapping.yaml)
  --project DIR        directory of Pulumi.yaml (default the repository; with --offline, a trial project)
  --workspaces DIR     per-stack workspace directories (default <project>/.pulumi/workspaces)
  --dry-run            preview only: no up, no checks
  --offline            no Pulumi CLI or cluster: validate, write the stack file and preview with the
                       offline render (implies --dry-run); to try the flow on a laptop. Without
                       --project it writes into a trial project under the OS temp directory
                       (its Pulumi.yaml runs the repository's program; its stacks/ starts as a copy
                       of the repository's) and prints where; the repository's stacks/ and .pulumi/
                       stay untouched. --project . writes into the repository on purpose.
  --no-comment         post nothing to Jira (no credentials needed)
  --skip-checks        do not run the post-deploy checks
Environment: ${JIRA_ENV.baseUrl}, ${JIRA_ENV.email}, ${JIRA_ENV.apiToken} (Jira Cloud credentials).

Change control: once a bank's stack file exists, a delivery never changes where DCM sends secrets or
tokens or who receives the first login (keyKeeperUrl, firstEmployeeEmail): such a change is held (status
needs-approval, exit 1), the other fields still apply, and the output says how DevOps approve it.

Exit codes: 0 onboarded (or previewed); 1 a step or a check failed, or a change needs approval; 2 bad usage, invalid data or an alias that is taken.`;

export interface OnboardCliDeps {
    /** The repository: its Pulumi.yaml, jira-mapping.yaml and stacks/ (default the one this script is in). */
    repository?: string;
    /** Where an --offline trial without --project writes its scratch project (default trialProjectDir). */
    trialDir?: string;
    backendFor?: (workspaceDir: string) => StackBackend;
    checks?: RunChecks;
    env?: NodeJS.ProcessEnv;
    stdin?: () => Promise<string>;
    out?: (text: string) => void;
    err?: (text: string) => void;
}

export async function main(argv: string[], deps: OnboardCliDeps = {}): Promise<number> {
    const out = deps.out ?? ((t: string) => process.stdout.write(t));
    const err = deps.err ?? ((t: string) => process.stderr.write(t));
    const args = parseCommand(argv, {
        jira: { type: "string" },
        mapping: { type: "string" },
        project: { type: "string" },
        workspaces: { type: "string" },
        "dry-run": { type: "boolean" },
        offline: { type: "boolean" },
        "no-comment": { type: "boolean" },
        "skip-checks": { type: "boolean" },
    }, USAGE, { out, err }, false);
    if (typeof args === "number") return args;
    const o = args.values;
    if (!o.jira) return usageError({ out, err }, "--jira FILE|- is required.", USAGE);
    const projectDir = path.resolve(o.project ?? deps.repository ?? PROJECT_ROOT);
    // A laptop trial stays out of the repository unless --project names where to write.
    const trial = Boolean(o.offline) && o.project === undefined;
    let project, mapping;
    try {
        project = readProject(projectDir);
        mapping = loadMapping(path.resolve(o.mapping ?? path.join(projectDir, "jira-mapping.yaml")));
    } catch (e) {
        err(`${(e as Error).message}\n`);
        return 2;
    }
    let text: string;
    try {
        text = o.jira === "-" ? await (deps.stdin ?? readStdin)() : fs.readFileSync(o.jira, "utf8");
    } catch (e) {
        err(`cannot read --jira ${o.jira}: ${(e as Error).message}\n`);
        return 2;
    }
    let body: unknown;
    try {
        body = JSON.parse(text);
    } catch (e) {
        err(`--jira ${o.jira} is not JSON: ${(e as Error).message}\n`);
        return 2;
    }
    const parsed = parseDelivery(body);
    if (!parsed.ok) {
        err(`--jira ${o.jira}: ${parsed.message}\n`);
        return 2;
    }
    let jira: JiraClient | undefined;
    if (!o["no-comment"]) {
        const fromEnv = JiraClient.fromEnv(deps.env ?? process.env);
        if (!fromEnv.client) {
            err(`Jira credentials missing: set ${fromEnv.missing.join(", ")}, or pass --no-comment\n`);
            return 2;
        }
        jira = fromEnv.client;
    }
    const noCli = !o.offline && !deps.backendFor ? pulumiCliMissing("pass --offline to validate, write the stack file and preview by the offline render", deps.env) : undefined;
    if (noCli) {
        err(`${noCli}\n`);
        return 2;
    }
    if (trial) {
        try {
            project = prepareTrialProject(project, deps.trialDir);
        } catch (e) {
            err(`${(e as Error).message}\n`);
            return 2;
        }
        err(`Trial project ${project.dir}: the stack file and the workspace go there, not into ${projectDir} (--project DIR writes into a real project)\n`);
    }
    const started = Date.now();
    const dryRun = o["dry-run"] || o.offline;
    err(`Onboarding ${parsed.delivery.issueKey}${o.offline ? " (offline: preview by the offline render)" : dryRun ? " (dry run)" : ""}...\n`);
    const result = await onboard(parsed.delivery, {
        project,
        mapping,
        reporter: jira ? new TicketReporter(jira, mapping.transitions) : undefined,
        backendFor: deps.backendFor ?? ((dir) => (o.offline ? new OfflineStackBackend(dir) : new PulumiCliBackend(dir))),
        workspacesDir: path.resolve(o.workspaces ?? path.join(project.dir, ".pulumi", "workspaces")),
        checks: o["skip-checks"] ? undefined : (deps.checks ?? postDeployChecks),
        dryRun,
        onProgress: (line) => err(`  ${line}\n`),
    });
    out(report(result, Date.now() - started, trial ? project : undefined));
    return exitCode(result);
}

export function exitCode(result: OnboardingResult): number {
    if (result.status === "succeeded" || result.status === "previewed") return 0;
    return result.status === "invalid" || result.status === "rejected" ? 2 : 1;
}

/** The result for the terminal; `trial` (a trial's scratch project) says where the stack file went. */
function report(r: OnboardingResult, ms: number, trial?: ProjectFile): string {
    const lines = [`${r.ticket}: ${r.status}${r.alias && r.status !== "invalid" ? ` (stack '${r.alias}'${r.file ? `, stack file ${r.file}` : ""})` : ""} in ${(ms / 1000).toFixed(1)} s`];
    for (const p of r.problems) lines.push(`  - ${p}`);
    if (r.approval) lines.push("  DevOps approve a held change outside Jira:", ...r.approval.map((a, i) => `    ${i + 1}. ${a}`));
    if (trial && r.alias && r.file) lines.push(`  trial stack file: ${stackFilePath(trial, r.alias)} (the repository's stacks/ is untouched)`);
    if (r.hosts?.backoffice) lines.push(`  backoffice host: ${r.hosts.backoffice}`, `  api host: ${r.hosts.api ?? ""}`);
    if (r.checks) lines.push("", checkTable(r.checks).trimEnd());
    if (r.commented !== undefined) lines.push(r.commented ? "commented on the ticket" : "the Jira comment FAILED (see the log above)");
    if (r.transition) lines.push(`ticket transitioned: ${r.transition}`);
    return `${lines.join("\n")}\n`;
}

function checkTable(c: CheckReportLike): string {
    return formatCheckTable({ ...c, results: c.results.map((r) => ({ ...r, step: String(r.step) })) });
}

async function readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

if (require.main === module) runCli((argv) => main(argv));
