/**
 * `npm run serve`: the Jira webhook receiver. Jira Automation rules (shared token header) and Jira
 * webhooks (X-Hub-Signature) POST tickets to /jira; each valid delivery becomes a queued onboarding job.
 */
import * as path from "node:path";
import { parseCommand, processIo, runCli } from "./lib/cli";
import { JIRA_ENV, JiraClient } from "./lib/jira/client";
import { jsonLogger } from "./lib/onboarding/log";
import { loadMapping, mappedFields } from "./lib/onboarding/mapping";
import { ReplayGuard } from "./lib/onboarding/delivery-state";
import { TicketReporter } from "./lib/onboarding/comment";
import { killJobs, runJobInChild, RunnerSpec } from "./lib/onboarding/job-runner";
import { OnboardingResult, precheck, type PreparedOnboarding } from "./lib/onboarding/pipeline";
import { JobQueue } from "./lib/onboarding/queue";
import { createReceiver, DEFAULT_MAX_AGE_MS, DEFAULT_MAX_BODY, EXPIRES_HEADER, JOB_READ_CONTEXT, MAX_JOB_READ_S, SIGNATURE_HEADER, TOKEN_HEADER } from "./lib/onboarding/server";
import { placeholderDigestProblem } from "../domain/images";
import { readProject } from "./lib/engine/stack-config";
import { prepareTrialProject } from "./lib/onboarding/trial";
import { PROJECT_ROOT } from "../domain/project";
import { OperatorOnboarding } from "./lib/engine/operator-onboarding";
import { resolveCommit } from "./lib/git-worktree";
import type { AdfDoc } from "./lib/jira/adf";

const USAGE = `Usage: npm run serve -- [options]

Receives Jira deliveries on POST /jira and onboards each bank as a queued job: 202 with
{jobId, ticket, stack, status: queued|running, job: /jobs/<id>} and Location: /jobs/<id>.
  GET /healthz        liveness and queue counts
  GET /jobs/<id>      a job's state and result (needs the ${TOKEN_HEADER} header, or
                      ${EXPIRES_HEADER}: <seconds since 1970, at most ${MAX_JOB_READ_S} s ahead> and
                      ${SIGNATURE_HEADER}: sha256=<HMAC with the webhook secret of
                      "${JOB_READ_CONTEXT}\\n/jobs/<id>\\n<expires>">)
Replays are refused: a delivery id or the same body seen before, a signed timestamp outside
--max-age, or a delivery not newer than its ticket's last (Automation bodies are ordered by the
ticket's fields.updated). An existing bank's keyKeeperUrl and firstEmployeeEmail are never changed
by a delivery: the job ends needs-approval and the ticket says how DevOps approve (docs/jira.md).

Options:
  --port N             listen port (default 8080, or PORT)
  --host ADDR          listen address (default 127.0.0.1, or HOST)
  --concurrency N      onboarding jobs running at once over all banks (default 2); one per bank always
  --max-body BYTES     largest body accepted (default ${DEFAULT_MAX_BODY})
  --mapping FILE       field mapping (default jira-mapping.yaml)
  --project DIR        directory of Pulumi.yaml (default the repository; with --offline, a trial project)
  --workspaces DIR     per-stack workspace directories (default <project>/.pulumi/workspaces)
  --state DIR          seen delivery ids and the last delivery applied per bank, kept across
                       restarts (default <project>/.pulumi/onboarding)
  --max-age SECONDS    refuse a delivery whose signed timestamp is older (or further ahead) than
                       this (default ${DEFAULT_MAX_AGE_MS / 1000})
  --dry-run            jobs preview only
  --offline            no Pulumi CLI or cluster: jobs validate, write the stack file and preview with
                       the offline render (implies --dry-run); to try the flow on a laptop. Without
                       --project, stack files, workspaces and --state go into a trial project under
                       the OS temp directory (its stacks/ starts as a copy of the repository's), logged
                       as "trial project"; the repository's stacks/ and .pulumi/ stay untouched.
                       --project . writes into the repository on purpose.
  --grace SECONDS      on SIGTERM, how long running jobs get to finish before they are killed
                       (default 600)
  --engine fleet|operator
                       fleet (default): each job runs pulumi here. operator: before the 202 the bank's
                       Stack object is created or updated in the cluster (kubectl apply --server-side with
                       KUBECONFIG's credentials), holding the ticket's data; the job writes the stack file
                       and applies the workspace's rights; the Pulumi Kubernetes Operator deploys it and
                       the ticket says where to follow it. On start, onboarded Stacks are reported from their
                       status and jobs a stopped receiver left are run again (docs/jira.md)
  --commit SHA         operator: the program's commit the Stacks pin (default the project's HEAD)
  --kubectl PATH       operator: the kubectl to run (default kubectl on PATH)
  --backend-module F   (tests, benchmarks) a module exporting backendFor(dir) instead of the Pulumi CLI
Environment (ONBOARDING_TOKEN or JIRA_WEBHOOK_SECRET is required, a trial too):
  ONBOARDING_TOKEN       shared token Automation rules send in ${TOKEN_HEADER}
  JIRA_WEBHOOK_SECRET    secret of Jira webhooks (X-Hub-Signature: sha256=...)
  ${JIRA_ENV.baseUrl}, ${JIRA_ENV.email}, ${JIRA_ENV.apiToken}   Jira Cloud credentials for comments

Jobs run with this environment minus ONBOARDING_TOKEN and JIRA_WEBHOOK_SECRET.
Exit codes: 0 stopped cleanly; 1 jobs were still running at the end of the grace period (killed); 2 bad usage.`;

/** What serve says when neither credential is set: both names, and how a trial sets one. */
export const NO_CREDENTIAL = "serve needs ONBOARDING_TOKEN (the shared token Jira Automation rules send in X-Onboarding-Token) or JIRA_WEBHOOK_SECRET (the secret Jira webhooks sign with): every request must authenticate. For a trial, pick any token: ONBOARDING_TOKEN=try-it npm run serve -- --offline, then send the header X-Onboarding-Token: try-it";

export async function main(argv: string[]): Promise<number> {
    const args = parseCommand(argv, {
        port: { type: "string" }, host: { type: "string" }, concurrency: { type: "string" }, "max-body": { type: "string" },
        mapping: { type: "string" }, project: { type: "string" }, workspaces: { type: "string" }, "dry-run": { type: "boolean" },
        offline: { type: "boolean" }, grace: { type: "string" }, state: { type: "string" }, "max-age": { type: "string" }, "backend-module": { type: "string" },
        engine: { type: "string" }, commit: { type: "string" }, kubectl: { type: "string" },
    }, USAGE, processIo, false);
    if (typeof args === "number") return args;
    const o = args.values;
    const int = (name: string, value: string | undefined, fallback: number, min: number): number => {
        if (value === undefined) return fallback;
        const n = Number(value);
        if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}; got '${value}'`);
        return n;
    };
    const env = process.env;
    let port: number, concurrency: number, maxBody: number, grace: number, maxAge: number;
    let project, mapping, mappingFile: string, repositoryDir: string;
    try {
        port = int("port", o.port ?? env.PORT, 8080, 0);
        concurrency = int("concurrency", o.concurrency, 2, 1);
        maxBody = int("max-body", o["max-body"], DEFAULT_MAX_BODY, 1024);
        grace = int("grace", o.grace, 600, 0);
        maxAge = int("max-age", o["max-age"], DEFAULT_MAX_AGE_MS / 1000, 1);
        repositoryDir = path.resolve(o.project ?? PROJECT_ROOT);
        project = readProject(repositoryDir);
        mappingFile = path.resolve(o.mapping ?? path.join(repositoryDir, "jira-mapping.yaml"));
        mapping = loadMapping(mappingFile);
    } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        return 2;
    }
    if (!env.ONBOARDING_TOKEN && !env.JIRA_WEBHOOK_SECRET) {
        process.stderr.write(`${NO_CREDENTIAL}\n`);
        return 2;
    }
    const engineChoice = o.engine ?? "fleet";
    if (engineChoice !== "fleet" && engineChoice !== "operator") {
        process.stderr.write(`--engine must be fleet or operator; got '${engineChoice}'\n`);
        return 2;
    }
    if (engineChoice === "operator" && (o.offline || o["dry-run"] || o["backend-module"])) {
        process.stderr.write("--engine operator runs in the cluster: --offline, --dry-run and --backend-module are fleet options\n");
        return 2;
    }
    if (engineChoice !== "operator" && (o.commit !== undefined || o.kubectl !== undefined)) {
        process.stderr.write("--commit and --kubectl are options of --engine operator\n");
        return 2;
    }
    let commit: string | undefined;
    if (engineChoice === "operator") {
        const head = o.commit !== undefined && /^[0-9a-f]{40}$/.test(o.commit) ? { commit: o.commit } : o.commit !== undefined ? { error: `--commit must be a full 40-hex commit id; got '${o.commit}'` } : resolveCommit(repositoryDir, "HEAD", "--commit (default HEAD)");
        if ("error" in head) {
            process.stderr.write(`${head.error}\n`);
            return 2;
        }
        commit = head.commit;
        // A Stack applied with a workspace image no registry serves never runs: refuse before accepting anything.
        const problem = placeholderDigestProblem(project.defaults.operatorWorkspaceImage);
        if (problem) {
            process.stderr.write(`operatorWorkspaceImage: ${problem}. Set it in Pulumi.yaml before serving with --engine operator.\n`);
            return 2;
        }
    }
    if (o.offline && o["backend-module"]) {
        process.stderr.write("--offline and --backend-module exclude each other\n");
        return 2;
    }
    const { client: jira, missing } = JiraClient.fromEnv(env);
    const log = jsonLogger();
    // A laptop trial stays out of the repository unless --project names where to write.
    if (o.offline && o.project === undefined) {
        try {
            project = prepareTrialProject(project);
        } catch (e) {
            process.stderr.write(`${(e as Error).message}\n`);
            return 2;
        }
        log.log("info", "trial project", { project: project.dir, stacks: project.stackConfigDir, repository: repositoryDir });
    }
    if (!jira) log.log("warn", "no Jira credentials: results are not commented on tickets", { missing });
    const workspacesDir = path.resolve(o.workspaces ?? path.join(project.dir, ".pulumi", "workspaces"));
    const stateDir = path.resolve(o.state ?? path.join(project.dir, ".pulumi", "onboarding"));
    const backendModule = o.offline ? require.resolve("./lib/engine/offline-stack-backend") : o["backend-module"] && path.resolve(o["backend-module"]);
    const spec: RunnerSpec = {
        projectDir: project.dir, mappingFile, workspacesDir, dryRun: o["dry-run"] || o.offline, stateDir,
        ...(backendModule ? { backendModule } : {}),
    };
    const queue = new JobQueue<OnboardingResult>({
        concurrency,
        failed: (r) => !["succeeded", "previewed"].includes(r.status),
        onChange: (j) => log.log("info", "job", { job: j.id, stack: j.stack, ticket: j.labels.ticket, state: j.state, status: j.result?.status }),
    });
    const comment = jira ? async (ticket: string, body: AdfDoc) => { await jira.addComment(ticket, body); } : undefined;
    // The operator engine: a small hook, the engine's own module does the work (scripts/lib/engine/operator-onboarding.ts).
    const engine = commit ? new OperatorOnboarding({ project, mapping, commit, target: { kubectl: o.kubectl }, log, comment }) : undefined;
    const receiver = createReceiver({
        token: env.ONBOARDING_TOKEN,
        webhookSecret: env.JIRA_WEBHOOK_SECRET,
        maxBodyBytes: maxBody,
        maxAgeMs: maxAge * 1000,
        replay: new ReplayGuard({ stateDir }),
        mappedFields: mappedFields(mapping),
        queue,
        log,
        precheck: (d) => precheck(d, { project, mapping }),
        // Each job in its own lower-priority process: acknowledgements stay fast while stacks deploy.
        onboard: engine ? (p) => engine.job(p.delivery) : (p) => runJobInChild(p, spec),
        ...(engine ? { accept: (p: PreparedOnboarding) => engine.accept(p.alias, p.delivery) } : {}),
        reporter: new TicketReporter(jira, mapping.transitions, log),
    });
    const address = await receiver.listen(port, o.host ?? env.HOST ?? "127.0.0.1");
    log.log("info", "listening", { address: address.address, port: address.port, concurrency, maxBody, engine: engineChoice });
    if (engine) {
        // What a stopped receiver left: reported from the Stacks' status; those only accepted are run again.
        try {
            const { deliveries } = await engine.resume();
            for (const d of deliveries) {
                const alias = String(d.fields[mapping.fields.alias!.field]);
                queue.submit(alias, { ticket: d.issueKey, resumed: "true" }, () => engine.job(d));
            }
        } catch (e) {
            log.log("error", "could not read the onboarded Stacks", { error: (e as Error).message });
        }
    }
    const signal = await new Promise<string>((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
    });
    log.log("info", "stopping: no new work; waiting for running jobs", { signal, graceSeconds: grace, ...queue.stats() });
    const still = await receiver.close(grace * 1000);
    // Whatever the jobs do (a job process stuck on its input, a hung CLI), nothing outlives the grace period.
    const killed = await killJobs();
    if (still.length > 0) {
        log.log("error", "jobs still running at the end of the grace period were killed; their stacks may be locked (pulumi cancel)", { jobs: still, processes: killed });
    } else {
        log.log("info", "stopped", killed ? { processes: killed } : {});
    }
    const code = still.length > 0 ? 1 : 0;
    setImmediate(() => process.exit(code));
    return code;
}

if (require.main === module) runCli(main);
