/**
 * Runs one onboarding job in a child process at a lower CPU priority, so the receiver keeps answering
 * Jira at once while `pulumi preview/up` (and the program they run) take the CPU. A crashed job cannot
 * take the receiver down. The child builds its own dependencies: Jira from the environment, the
 * Automation API (or, for benchmarks, the backend a module exports), the post-deploy checks.
 */
import { fork } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { JiraClient } from "../jira/client";
import { PulumiCliBackend, StackBackend } from "../stack-backend";
import { readProject } from "../stack-config";
import { jsonLogger } from "./log";
import { loadMapping } from "./mapping";
import type { Delivery } from "./payload";
import { onboard, OnboardingResult } from "./pipeline";

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
}

/** Runs `onboard` for one delivery in a child process; resolves with its result. */
export function runJobInChild(delivery: Delivery, spec: RunnerSpec): Promise<OnboardingResult> {
    return new Promise((resolve, reject) => {
        const child = fork(__filename, [], {
            execArgv: __filename.endsWith(".ts") ? ["--require", "ts-node/register/transpile-only"] : [],
            stdio: ["ignore", "inherit", "inherit", "ipc"],
        });
        try {
            if (child.pid) os.setPriority(child.pid, spec.nice ?? 10);
        } catch {
            // Lowering a child's priority needs no privilege; if the platform refuses, run at normal priority.
        }
        let result: OnboardingResult | undefined;
        child.on("message", (m: { result?: OnboardingResult }) => { result = m.result; });
        child.on("error", reject);
        child.on("exit", (code, signal) => {
            if (result) resolve(result);
            else reject(new Error(`the job process ended without a result (${signal ?? `exit code ${code}`})`));
        });
        child.send({ delivery, spec });
    });
}

async function childMain(delivery: Delivery, spec: RunnerSpec): Promise<OnboardingResult> {
    const project = readProject(spec.projectDir);
    const backendFor: (dir: string) => StackBackend = spec.backendModule
        ? (require(path.resolve(spec.backendModule)) as { backendFor: (dir: string) => StackBackend }).backendFor
        : (dir) => new PulumiCliBackend(dir);
    const checks = spec.skipChecks ? undefined : (require("./checks") as typeof import("./checks")).postDeployChecks;
    return onboard(delivery, {
        project,
        mapping: loadMapping(spec.mappingFile),
        jira: JiraClient.fromEnv(process.env).client,
        log: jsonLogger(),
        workspacesDir: spec.workspacesDir,
        dryRun: spec.dryRun,
        backendFor,
        checks,
    });
}

if (require.main === module) {
    process.once("message", (m: { delivery: Delivery; spec: RunnerSpec }) => {
        childMain(m.delivery, m.spec).then(
            (result) => process.send!({ result }, () => process.exit(0)),
            (e: unknown) => {
                process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "job failed", error: (e as Error).message })}\n`);
                process.exit(1);
            },
        );
    });
}
