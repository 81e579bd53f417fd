/**
 * `onboard --offline` and `serve --offline`: the onboarding flow on a laptop without the Pulumi CLI or a
 * cluster. The stack "preview" is the offline render (the real program under Pulumi's mock runtime, as
 * `npm run render` runs it), so validation, the stack file and what the bank's stack would contain are real;
 * nothing is deployed, so `up` is refused and the flow stops at the preview (the callers force --dry-run).
 */
import { runOffline } from "./offline-run";
import { ChangeSummary, ConfigValue, StackBackend, StackHandle } from "./stack-backend";

export class OfflineStackBackend implements StackBackend {
    /** @param projectDir directory of the Pulumi.yaml to render with (a per-bank workspace works: its main and stackConfigDir point back) */
    constructor(private readonly projectDir: string) {}

    async selectOrCreate(stack: string): Promise<StackHandle> {
        // Config set during the run (as `pulumi config set` would): held for this run's renders only, never written.
        const overrides: Record<string, string> = {};
        return {
            name: stack,
            setConfig: async (values: Record<string, ConfigValue>) => {
                for (const [key, v] of Object.entries(values)) overrides[key.slice(key.indexOf(":") + 1)] = v.value;
            },
            preview: async (onOutput?: (line: string) => void): Promise<ChangeSummary> => {
                onOutput?.(`Rendering ${stack} offline (no Pulumi CLI: what the stack would contain, not a diff against a deployment)`);
                const outcome = await runOffline({ stack, projectDir: this.projectDir, overrides, typecheck: false });
                if (!outcome.ok) throw new Error(`the offline render of stack '${stack}' failed:\n${outcome.error}`);
                const resources = outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
                for (const r of resources) onOutput?.(`  + ${r.type} ${r.name}`);
                return { create: resources.length };
            },
            up: async () => {
                throw new Error("offline mode deploys nothing: run without --offline, with the Pulumi CLI and a kubeconfig, to deploy");
            },
            outputs: async () => ({}),
        };
    }
}

/** What `serve`'s job processes load for `--offline` (the job runner's backend-module contract). */
export function backendFor(workspaceDir: string): StackBackend {
    return new OfflineStackBackend(workspaceDir);
}
