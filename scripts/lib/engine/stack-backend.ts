/**
 * The narrow interface between what runs around `pulumi up` (onboarding, fleet, checks) and the Pulumi
 * CLI. The real implementation is a thin layer over the Automation API, which needs the CLI binary; tests
 * use the fake in scripts/lib/engine/fake-stack-backend.ts, which behaves like it (offline render, stack locks).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as automation from "@pulumi/pulumi/automation";

/**
 * Why the Pulumi CLI cannot run here (no executable `pulumi` on PATH), or undefined when it can. Commands ask
 * before writing anything, so a machine without the CLI gets this sentence and exit 2, never a half-done run
 * ending in `spawn pulumi ENOENT`. `instead` names what works without the CLI.
 */
export function pulumiCliMissing(instead: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const found = (env.PATH ?? "").split(path.delimiter).filter(Boolean).some((dir) => {
        try {
            fs.accessSync(path.join(dir, "pulumi"), fs.constants.X_OK);
            return fs.statSync(path.join(dir, "pulumi")).isFile();
        } catch {
            return false;
        }
    });
    return found ? undefined : `the Pulumi CLI is not installed (no \`pulumi\` on PATH): install it (https://www.pulumi.com/docs/install/), or ${instead}`;
}

/** Counts of resource operations by kind ("create", "update", "same", ...). */
export type ChangeSummary = Partial<Record<string, number>>;

/** A stack output as `pulumi stack output --json --show-secrets` gives it, with its secret flag. */
export interface StackOutput {
    value: unknown;
    secret: boolean;
}

/** A config value to set on a stack. */
export interface ConfigValue {
    value: string;
    secret: boolean;
}

/** Another update holds the stack's lock (`pulumi cancel` or wait). */
export class StackLockedError extends Error {
    constructor(public readonly stack: string, detail: string) {
        super(`stack '${stack}' is locked by another update: ${detail}`);
        this.name = "StackLockedError";
    }
}

/** One selected stack. */
export interface StackHandle {
    /** The stack name (bank alias). */
    readonly name: string;
    /** Sets config values (keys namespaced, e.g. `dcm-integration:alias`) in the stack's config file. */
    setConfig(values: Record<string, ConfigValue>): Promise<void>;
    /** `pulumi preview`; each engine output line goes to onOutput. */
    preview(onOutput?: (line: string) => void): Promise<ChangeSummary>;
    /** `pulumi up --yes`. */
    up(onOutput?: (line: string) => void): Promise<ChangeSummary>;
    /** `pulumi stack output --json --show-secrets`. */
    outputs(): Promise<Record<string, StackOutput>>;
    /**
     * `pulumi refresh --preview-only --expect-no-changes`: what differs between the stack's state and the cluster,
     * changing neither. Optional: `fleet -- drift` reports a backend without it as unable to check.
     */
    refreshPreview?(onOutput?: (line: string) => void): Promise<DriftResult>;
}

/** One resource whose live object differs from the stack's state: names only, never values (they may be secret). */
export interface DriftedResource {
    urn: string;
    type: string;
    name: string;
    /** What a refresh would do to the state: update, delete (gone from the cluster), ... */
    op: string;
    /** Top-level properties that differ. */
    properties: string[];
}

/** A refresh preview's finding. */
export interface DriftResult {
    drifted: DriftedResource[];
    /** The engine's counts (same, update, delete). */
    changes: ChangeSummary;
}

/** Ops of a refresh step that mean the live object left the state behind. */
const DRIFT_OPS = new Set(["update", "delete", "create", "replace", "create-replacement", "delete-replaced"]);

/** The drifted resources among a refresh preview's engine events (the step's op, or a refresh step with diffs). */
export function driftFromEvents(events: readonly automation.EngineEvent[]): DriftedResource[] {
    const found = new Map<string, DriftedResource>();
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata ?? e.resOutputsEvent?.metadata;
        if (!m || m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:")) continue;
        const properties = [...new Set([...(m.diffs ?? []), ...Object.keys(m.detailedDiff ?? {})].map((k) => k.split(/[.[]/)[0]))].sort();
        if (!DRIFT_OPS.has(m.op) && !(m.op === "refresh" && properties.length > 0)) continue;
        const prior = found.get(m.urn);
        found.set(m.urn, {
            urn: m.urn, type: m.type, name: m.urn.slice(m.urn.lastIndexOf("::") + 2), op: m.op === "refresh" ? "update" : m.op,
            properties: [...new Set([...(prior?.properties ?? []), ...properties])].sort(),
        });
    }
    return [...found.values()].sort((a, b) => a.urn.localeCompare(b.urn));
}

export interface StackBackend {
    /** Selects the stack, creating it first if it does not exist. */
    selectOrCreate(stack: string): Promise<StackHandle>;
}

/** Splits the Automation API's output chunks into whole lines. */
function lineSink(onOutput?: (line: string) => void): ((chunk: string) => void) | undefined {
    if (!onOutput) return undefined;
    let pending = "";
    return (chunk) => {
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        lines.forEach(onOutput);
    };
}

/**
 * The CLI's locked-stack error as ours; a failed CLI command as the CLI's own `error:` line (the Automation API's
 * message starts "code: -2", which names nothing: fleet tables and tickets show a message's first line);
 * anything else unchanged.
 */
export function translate(stack: string, e: unknown): unknown {
    if (e instanceof automation.ConcurrentUpdateError) return new StackLockedError(stack, e.message.split("\n")[0]);
    if (e instanceof automation.CommandError) {
        const said = e.message.split("\n").map((l) => l.trim()).find((l) => l.startsWith("error: "));
        if (said) return Object.assign(new Error(`pulumi (stack ${stack}): ${said.slice("error: ".length)}\n${e.message}`), { cause: e });
    }
    return e;
}

/**
 * The Pulumi CLI through the Automation API, on this project's directory. The CLI reads Pulumi.yaml
 * itself, so `main` and `stackConfigDir` are honoured; nothing here reads or writes stack files.
 */
export class PulumiCliBackend implements StackBackend {
    /** @param projectDir directory of Pulumi.yaml */
    constructor(private readonly projectDir: string) {}

    async selectOrCreate(stackName: string): Promise<StackHandle> {
        const stack = await automation.LocalWorkspace.createOrSelectStack({ stackName, workDir: this.projectDir });
        const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
            try {
                return await work();
            } catch (e) {
                throw translate(stackName, e);
            }
        };
        return {
            name: stackName,
            setConfig: (values) => guarded(() => stack.setAllConfig(values)),
            preview: (onOutput) => guarded(async () => (await stack.preview({ onOutput: lineSink(onOutput) })).changeSummary as ChangeSummary),
            up: (onOutput) => guarded(async () => (await stack.up({ onOutput: lineSink(onOutput) })).summary.resourceChanges ?? {}),
            refreshPreview: (onOutput) => guarded(async () => {
                const events: automation.EngineEvent[] = [];
                try {
                    const result = await stack.previewRefresh({ expectNoChanges: true, onOutput: lineSink(onOutput), onEvent: (e) => events.push(e) });
                    return { drifted: driftFromEvents(events), changes: result.changeSummary as ChangeSummary };
                } catch (e) {
                    // --expect-no-changes makes the CLI fail when the refresh would change the state: that is the finding.
                    const drifted = driftFromEvents(events);
                    if (drifted.length === 0) throw e;
                    const summary = events.map((x) => x.summaryEvent?.resourceChanges).find(Boolean) ?? {};
                    return { drifted, changes: summary as ChangeSummary };
                }
            }),
            outputs: () => guarded(async () => {
                const map = await stack.outputs();
                return Object.fromEntries(Object.entries(map).map(([k, o]) => [k, { value: o.value, secret: o.secret }]));
            }),
        };
    }
}
