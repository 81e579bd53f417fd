/**
 * A StackBackend that behaves like the Pulumi CLI without it: preview and up run the real program
 * offline (runOffline), an up holds the stack's lock (a second one fails with StackLockedError), outputs
 * come from the last up with their secret flags, and faults can be injected per stack and operation.
 */
import * as fs from "node:fs";
import { runOffline } from "./offline-run";
import { isSecretValue, unwrapSecrets } from "../../../domain/secret-values";
import { ChangeSummary, ConfigValue, StackBackend, StackHandle, StackLockedError, StackOutput } from "./stack-backend";
import { readProject, stackFilePath } from "./stack-config";
import { PROJECT_ROOT } from "../../../domain/project";

export type Operation = "select" | "setConfig" | "preview" | "up" | "outputs";

export interface FakeOptions {
    /** Directory of Pulumi.yaml; default the repository root. */
    projectDir?: string;
    /** Extra time each preview/up takes, to make overlaps observable. */
    delayMs?: number;
    /** Returns an error to throw instead of doing the operation. */
    fault?: (stack: string, op: Operation) => Error | undefined;
    /** Prefix planted in every generated password (runOffline's secretCanary), for leak tests. */
    secretCanary?: string;
    /** Reuse one render per stack, config and stack file content (keeps tests that run many updates cheap). */
    cacheRenders?: boolean;
}

export class FakeStackBackend implements StackBackend {
    /** Every call, in order. */
    readonly calls: { stack: string; op: Operation }[] = [];
    private readonly locked = new Set<string>();
    private readonly deployed = new Map<string, Record<string, StackOutput>>();
    private readonly config = new Map<string, Record<string, unknown>>();
    private readonly renders = new Map<string, ReturnType<typeof runOffline>>();
    /** The backend whose locks and deployed stacks this one shares (see forWorkspace). */
    private shared: FakeStackBackend = this;

    constructor(private readonly options: FakeOptions = {}) {}

    /**
     * The same backend seen from another workspace directory (a Pulumi.yaml elsewhere): same state,
     * locks and call log, as with one Pulumi backend and several LocalWorkspaces.
     */
    forWorkspace(projectDir: string): FakeStackBackend {
        const view = new FakeStackBackend({ ...this.options, projectDir });
        view.shared = this.shared;
        return view;
    }

    private render(stack: string): ReturnType<typeof runOffline> {
        const root = this.shared;
        // Transpile only: the fake stands in for the CLI inside `npm test`, which type checks the tree first.
        const run = () => runOffline({ stack, projectDir: this.options.projectDir, overrides: root.config.get(stack), secretCanary: this.options.secretCanary, typecheck: false });
        if (!this.options.cacheRenders) return run();
        let file = "";
        try {
            const project = readProject(this.options.projectDir ?? PROJECT_ROOT);
            file = fs.readFileSync(stackFilePath(project, stack), "utf8");
        } catch {
            // No stack file: runOffline reports it.
        }
        const key = JSON.stringify([stack, root.config.get(stack) ?? {}, file]);
        if (!root.renders.has(key)) root.renders.set(key, run());
        return root.renders.get(key)!;
    }

    /** Stacks with at least one successful up. */
    get deployedStacks(): string[] {
        return [...this.shared.deployed.keys()].sort();
    }

    async selectOrCreate(stack: string): Promise<StackHandle> {
        this.record(stack, "select");
        const run = async (op: "preview" | "up", onOutput?: (line: string) => void): Promise<ChangeSummary> => {
            this.record(stack, op);
            if (op === "up") {
                if (this.shared.locked.has(stack)) throw new StackLockedError(stack, "the stack is currently locked by 1 lock(s)");
                this.shared.locked.add(stack);
            }
            try {
                onOutput?.(`${op === "up" ? "Updating" : "Previewing update"} (${stack})`);
                if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
                const outcome = await this.render(stack);
                if (!outcome.ok) throw new Error(`pulumi ${op} failed for stack '${stack}':\n${outcome.error}`);
                const resources = outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
                for (const r of resources) onOutput?.(`  + ${r.type} ${r.name} ${op === "up" ? "created" : "create"}`);
                const before = this.shared.deployed.has(stack);
                if (op === "up") {
                    this.shared.deployed.set(stack, Object.fromEntries(Object.entries(outcome.outputs).map(([k, v]) =>
                        [k, { value: unwrapSecrets(v), secret: isSecretValue(v) }])));
                }
                return before ? { same: resources.length } : { create: resources.length };
            } finally {
                if (op === "up") this.shared.locked.delete(stack);
            }
        };
        return {
            name: stack,
            setConfig: async (values: Record<string, ConfigValue>) => {
                this.record(stack, "setConfig");
                const short = Object.fromEntries(Object.entries(values).map(([k, v]) => [k.split(":").pop()!, v.value]));
                this.shared.config.set(stack, { ...this.shared.config.get(stack), ...short });
            },
            preview: (onOutput) => run("preview", onOutput),
            up: (onOutput) => run("up", onOutput),
            outputs: async () => {
                this.record(stack, "outputs");
                return this.shared.deployed.get(stack) ?? {};
            },
        };
    }

    private record(stack: string, op: Operation): void {
        this.shared.calls.push({ stack, op });
        const fault = this.options.fault?.(stack, op);
        if (fault) throw fault;
    }
}
