/**
 * Runs one onboarding job in a child process at a lower CPU priority, so the receiver keeps answering
 * Jira at once while `pulumi preview/up` (and the program they run) take the CPU. A crashed job cannot
 * take the receiver down. The child builds its own dependencies: Jira from the environment, the
 * Automation API (or, for benchmarks, the backend a module exports), the post-deploy checks.
 * It gets an explicit environment without the receiver's own secrets, the delivery as the receiver's
 * precheck prepared it (only the mapped and validated data; it is not validated again), and ends with its job: it exits when the receiver goes away, and the receiver
 * kills what is left (the job's whole process group) when its grace period ends.
 */
import { ChildProcess, fork } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { JiraClient } from "../jira/client";
import { PulumiCliBackend, StackBackend } from "../engine/stack-backend";
import { readProject } from "../engine/stack-config";
import { TicketReporter } from "./comment";
import { ReplayGuard } from "./delivery-state";
import { jsonLogger } from "./log";
import { loadMapping } from "./mapping";
import { OnboardingResult, PreparedOnboarding, runOnboarding } from "./pipeline";

export interface RunnerSpec {
    projectDir: string;
    mappingFile: string;
    workspacesDir: string;
    dryRun?: boolean;
    /** Run no post-deploy checks. */
    skipChecks?: boolean;
    /** A module exporting `backendFor(workspaceDir): StackBackend` instead of the Pulumi CLI (benchmarks). */
    backendModule?: string;
    /** Niceness of the job process (0-19); default 10. */
    nice?: number;
    /** Directory of the receiver's delivery state (the last delivery applied per bank). */
    stateDir?: string;
}

/** Environment variables only the receiver needs: never passed to a job. */
export const RECEIVER_SECRETS: readonly string[] = ["ONBOARDING_TOKEN", "JIRA_WEBHOOK_SECRET"];

/** A job's environment: the receiver's, without the receiver's own secrets (the job needs Pulumi's and Jira's). */
export function jobEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return Object.fromEntries(Object.entries(env).filter(([k]) => !RECEIVER_SECRETS.includes(k)));
}

const running = new Set<ChildProcess>();

/** Kills every job process still running, with the processes it started (SIGTERM, then SIGKILL after `graceMs`). */
export async function killJobs(graceMs = 2000): Promise<number> {
    const children = [...running];
    const signal = (child: ChildProcess, name: NodeJS.Signals) => {
        try {
            // Each job leads its own process group: the Pulumi CLI and plugins it started go too.
            if (child.pid) process.kill(-child.pid, name);
        } catch {
            child.kill(name);
        }
    };
    const exited = children.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r()))));
    children.forEach((c) => signal(c, "SIGTERM"));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(exited), new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) signal(c, "SIGKILL");
    return children.length;
}

/** Runs one prepared delivery (the precheck's) in a child process; resolves with its result. */
export function runJobInChild(prepared: PreparedOnboarding, spec: RunnerSpec): Promise<OnboardingResult> {
    return new Promise((resolve, reject) => {
        const child = fork(__filename, [], {
            execArgv: __filename.endsWith(".ts") ? ["--require", "ts-node/register/transpile-only"] : [],
            stdio: ["ignore", "inherit", "inherit", "ipc"],
            env: jobEnvironment(process.env),
            // Its own process group, so that what the job starts can be stopped with it.
            detached: true,
        });
        running.add(child);
        try {
            if (child.pid) os.setPriority(child.pid, spec.nice ?? 10);
        } catch {
            // Lowering a child's priority needs no privilege; if the platform refuses, run at normal priority.
        }
        let result: OnboardingResult | undefined;
        let failure: Error | undefined;
        child.on("message", (m: { result?: OnboardingResult }) => { result = m.result; });
        child.on("error", (e) => { failure ??= e; });
        child.on("exit", (code, signal) => {
            running.delete(child);
            if (result) resolve(result);
            else reject(failure ?? new Error(`the job process ended without a result (${signal ?? `exit code ${code}`})`));
        });
        const stop = (e: Error) => {
            failure ??= e;
            child.kill("SIGKILL");
        };
        try {
            child.send({ prepared, spec }, (e) => { if (e) stop(new Error(`the job could not be handed to its process: ${e.message}`)); });
        } catch (e) {
            stop(new Error(`the job could not be handed to its process: ${(e as Error).message}`));
        }
    });
}

async function childMain(prepared: PreparedOnboarding, spec: RunnerSpec): Promise<OnboardingResult> {
    const project = readProject(spec.projectDir);
    const backendFor: (dir: string) => StackBackend = spec.backendModule
        ? (require(path.resolve(spec.backendModule)) as { backendFor: (dir: string) => StackBackend }).backendFor
        : (dir) => new PulumiCliBackend(dir);
    const checks = spec.skipChecks ? undefined : (require("./checks") as typeof import("./checks")).postDeployChecks;
    const mapping = loadMapping(spec.mappingFile);
    const log = jsonLogger();
    return runOnboarding(prepared, {
        project,
        mapping,
        reporter: new TicketReporter(JiraClient.fromEnv(process.env).client, mapping.transitions, log),
        log,
        workspacesDir: spec.workspacesDir,
        ...(spec.stateDir ? { replay: new ReplayGuard({ stateDir: spec.stateDir }) } : {}),
        dryRun: spec.dryRun,
        backendFor,
        checks,
    });
}

if (require.main === module) {
    // The job ends with the receiver: no orphan keeps running (or waiting for a message) without it.
    process.once("disconnect", () => process.exit(1));
    process.once("message", (m: { prepared: PreparedOnboarding; spec: RunnerSpec }) => {
        childMain(m.prepared, m.spec).then(
            (result) => process.send!({ result }, () => process.exit(0)),
            (e: unknown) => {
                process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "job failed", error: (e as Error).message })}\n`);
                process.exit(1);
            },
        );
    });
}
