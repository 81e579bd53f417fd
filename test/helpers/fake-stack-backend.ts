/**
 * A StackBackend that behaves like the Pulumi CLI without it: preview and up run the real program
 * offline (runOffline), an up holds the stack's lock (a second one fails with StackLockedError), outputs
 * come from the last up with their secret flags, and faults can be injected per stack and operation.
 */
import { runOffline } from "../../scripts/lib/offline-run";
import { isSecretValue, unwrapSecrets } from "../../scripts/lib/secret-values";
import { ChangeSummary, ConfigValue, StackBackend, StackHandle, StackLockedError, StackOutput } from "../../scripts/lib/stack-backend";

export type Operation = "select" | "setConfig" | "preview" | "up" | "outputs";

export interface FakeOptions {
    /** Directory of Pulumi.yaml; default the repository root. */
    projectDir?: string;
    /** Extra time each preview/up takes, to make overlaps observable. */
    delayMs?: number;
    /** Returns an error to throw instead of doing the operation. */
    fault?: (stack: string, op: Operation) => Error | undefined;
}

export class FakeStackBackend implements StackBackend {
    /** Every call, in order. */
    readonly calls: { stack: string; op: Operation }[] = [];
    private readonly locked = new Set<string>();
    private readonly deployed = new Map<string, Record<string, StackOutput>>();
    private readonly config = new Map<string, Record<string, unknown>>();

    constructor(private readonly options: FakeOptions = {}) {}

    /** Stacks with at least one successful up. */
    get deployedStacks(): string[] {
        return [...this.deployed.keys()].sort();
    }

    async selectOrCreate(stack: string): Promise<StackHandle> {
        this.record(stack, "select");
        const run = async (op: "preview" | "up", onOutput?: (line: string) => void): Promise<ChangeSummary> => {
            this.record(stack, op);
            if (op === "up") {
                if (this.locked.has(stack)) throw new StackLockedError(stack, "the stack is currently locked by 1 lock(s)");
                this.locked.add(stack);
            }
            try {
                onOutput?.(`${op === "up" ? "Updating" : "Previewing update"} (${stack})`);
                if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
                const outcome = await runOffline({ stack, projectDir: this.options.projectDir, overrides: this.config.get(stack) });
                if (!outcome.ok) throw new Error(`pulumi ${op} failed for stack '${stack}':\n${outcome.error}`);
                const resources = outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
                for (const r of resources) onOutput?.(`  + ${r.type} ${r.name} ${op === "up" ? "created" : "create"}`);
                const before = this.deployed.has(stack);
                if (op === "up") {
                    this.deployed.set(stack, Object.fromEntries(Object.entries(outcome.outputs).map(([k, v]) =>
                        [k, { value: unwrapSecrets(v), secret: isSecretValue(v) }])));
                }
                return before ? { same: resources.length } : { create: resources.length };
            } finally {
                if (op === "up") this.locked.delete(stack);
            }
        };
        return {
            name: stack,
            setConfig: async (values: Record<string, ConfigValue>) => {
                this.record(stack, "setConfig");
                const short = Object.fromEntries(Object.entries(values).map(([k, v]) => [k.split(":").pop()!, v.value]));
                this.config.set(stack, { ...this.config.get(stack), ...short });
            },
            preview: (onOutput) => run("preview", onOutput),
            up: (onOutput) => run("up", onOutput),
            outputs: async () => {
                this.record(stack, "outputs");
                return this.deployed.get(stack) ?? {};
            },
        };
    }

    private record(stack: string, op: Operation): void {
        this.calls.push({ stack, op });
        const fault = this.options.fault?.(stack, op);
        if (fault) throw fault;
    }
}
