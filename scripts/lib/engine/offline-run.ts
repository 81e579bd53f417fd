/**
 * Runs the real program for one stack with no Pulumi CLI and no cluster: a fresh worker process per run
 * (the Pulumi runtime is process-global), started the way the CLI starts its nodejs runtime.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { OfflineResult } from "./offline-runtime";
import { listStacks, loadStackConfig, readProject, StackConfig, stackFilePath } from "./stack-config";
import { PROJECT_ROOT } from "../../../domain/project";

export type { OfflineResult, RecordedResource } from "./offline-runtime";

export interface OfflineRunOptions {
    /** Directory of Pulumi.yaml; default the repository root. */
    projectDir?: string;
    /** Stack (bank alias). */
    stack: string;
    /** Config values laid over the stack file, keyed without namespace. */
    overrides?: Record<string, unknown>;
    /** A stack file other than stacks/Pulumi.<stack>.yaml. */
    stackFile?: string;
    /** Program directory other than Pulumi.yaml's `main` (benchmarks). */
    programDir?: string;
    /** Prefix planted in every generated password, for leak tests. */
    secretCanary?: string;
    /** Run as `pulumi preview` would. */
    preview?: boolean;
    /**
     * Type check the program as ts-node compiles it, as the CLI does by default (true). False is the CLI's own
     * PULUMI_NODEJS_TRANSPILE_ONLY=true: for tests, after `npm run typecheck` has checked the whole tree.
     */
    typecheck?: boolean;
    /**
     * Derive every generated value (passwords, keys, ids, auto-name suffixes) from this text and the resource's URN:
     * a reproducible render, not for deployment. Unset: real randomness, a new value each render.
     */
    seed?: string;
    /** Called with each phase of the run as the worker reaches it (type check, program run, registrations). */
    progress?: (phase: string) => void;
}

export type OfflineOutcome =
    | ({ ok: true; stackConfig: StackConfig } & OfflineResult)
    | { ok: false; stackConfig?: StackConfig; error: string; stderr: string };

const WORKER = path.join(__dirname, "offline-worker.js");

export async function runOffline(options: OfflineRunOptions): Promise<OfflineOutcome> {
    const project = readProject(options.projectDir ?? PROJECT_ROOT);
    let stackConfig: StackConfig;
    try {
        stackConfig = loadStackConfig(project, options.stack, options.overrides, options.stackFile);
    } catch (e) {
        return { ok: false, error: (e as Error).message, stderr: "" };
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-offline-"));
    try {
        const jobFile = path.join(tmp, "job.json");
        const resultFile = path.join(tmp, "result.json");
        fs.writeFileSync(jobFile, JSON.stringify({
            project: project.name,
            stack: options.stack,
            programDir: options.programDir ?? project.programDir,
            config: stackConfig.config,
            secretKeys: stackConfig.secretKeys,
            secretCanary: options.secretCanary,
            seed: options.seed,
            preview: options.preview ?? false,
            resultFile,
        }));
        const stderr = await new Promise<string>((resolve, reject) => {
            // A clean environment for the SDK: no config or engine variables from the caller's shell.
            const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_") && !k.startsWith("TS_NODE_")));
            if (options.typecheck === false) env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
            const child = spawn(process.execPath, [WORKER, jobFile], { cwd: project.dir, env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
            child.on("message", (m: { phase?: unknown }) => { if (typeof m?.phase === "string") options.progress?.(m.phase); });
            let err = "";
            child.stdout!.on("data", (d) => { err += d; });
            child.stderr!.on("data", (d) => { err += d; });
            child.on("error", reject);
            child.on("close", () => resolve(err));
        });
        if (!fs.existsSync(resultFile)) return { ok: false, stackConfig, error: "the program's worker exited without a result", stderr };
        const result = JSON.parse(fs.readFileSync(resultFile, "utf8"));
        return result.ok ? { ...result, stackConfig } : { ok: false, stackConfig, error: result.error, stderr };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** One progress line of a command: the phase, indented, after the seconds since `started`. */
export function phaseLine(started: number, phase: string): string {
    return `  [${((Date.now() - started) / 1000).toFixed(1)} s] ${phase}\n`;
}

/** What a command may ask of renderForCommand beyond the stack. */
export interface CommandRenderOptions {
    /** Directory of Pulumi.yaml (e.g. a worktree at another revision); default the repository root. */
    projectDir?: string;
    /** A reproducible render from this seed (see OfflineRunOptions.seed). */
    seed?: string;
    /** Print each phase on stderr with the seconds since the start (default true): a render takes seconds. */
    progress?: boolean;
    /** Which side the messages say the render is (e.g. "at HEAD~1"); default none. */
    label?: string;
    /** Prefix planted in every generated password, for leak tests. */
    secretCanary?: string;
    /** Type check as the CLI does (default true); tests pass false after `npm run typecheck`. */
    typecheck?: boolean;
}

/**
 * For commands: renders a stack, saying so and each phase on stderr; on failure prints why and returns the exit
 * code, 2 for a missing or invalid configuration (the user's to fix; a missing stack lists those that exist),
 * 1 for anything else.
 */
export async function renderForCommand(stack: string, err: (text: string) => void = (t) => { process.stderr.write(t); }, options: CommandRenderOptions = {}): Promise<Extract<OfflineOutcome, { ok: true }> | number> {
    const project = readProject(options.projectDir ?? PROJECT_ROOT);
    const at = options.label ? ` ${options.label}` : "";
    if (!fs.existsSync(stackFilePath(project, stack))) {
        const dir = path.relative(project.dir, project.stackConfigDir) || ".";
        const stacks = fs.existsSync(project.stackConfigDir) ? listStacks(project) : [];
        err(`stack '${stack}'${at} has no config file: ${path.join(dir, `Pulumi.${stack}.yaml`)} does not exist. ` +
            `${stacks.length ? `The stacks in ${dir}/ are: ${stacks.join(", ")}.` : `${dir}/ has no stack file (Pulumi.<stack>.yaml).`}\n`);
        return 2;
    }
    const started = Date.now();
    err(`Rendering stack '${stack}'${at} offline${options.seed !== undefined ? " (reproducible, seeded)" : ""}...\n`);
    const progress = options.progress === false ? undefined : (phase: string) => err(phaseLine(started, options.label ? `${options.label}: ${phase}` : phase));
    const outcome = await runOffline({
        stack, projectDir: options.projectDir, seed: options.seed, progress, secretCanary: options.secretCanary, typecheck: options.typecheck,
    });
    if (outcome.ok) return outcome;
    err(`${outcome.error}\n`);
    if (outcome.stderr.trim()) err(`${outcome.stderr.trim()}\n`);
    return /^Invalid configuration|has no config file/.test(outcome.error) ? 2 : 1;
}
