/**
 * A bank deployed for real, as docs/devops.md's "Deploying for real" describes: a real kube-apiserver + etcd
 * (support/apiserver.ts) with the platform's namespace `dcm-platform` created first, the Pulumi CLI in a
 * sandbox with the resource plugins installed into its plugin cache (support/pulumi.ts), and a temporary
 * copy of the project with the stack initialised and the platform setting skipAwait true (the API server has
 * no nodes and no controllers: nothing would ever become ready).
 */
import { realComponentsAvailable } from "../../../scripts/lib/real/components";
import { tempProject, TempProject } from "../../scripts/onboarding/fixtures";
import { CONTROL_PLANE_COMPONENTS, ControlPlane, kubectl, startControlPlane } from "./apiserver";
import { pulumiSandbox, PulumiSandbox } from "./pulumi";

/** What a real deployment needs from `npm run real:setup`. */
export const DEPLOYMENT_COMPONENTS = [...CONTROL_PLANE_COMPONENTS, "pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "pulumi-resource-random", "pulumi-resource-tls"];
/** Whether they are all built; otherwise the suite skips with DEPLOYMENT_SKIP. */
export const deploymentAvailable = realComponentsAvailable(DEPLOYMENT_COMPONENTS);
export const DEPLOYMENT_SKIP = `needs ${DEPLOYMENT_COMPONENTS.join(", ")}: run \`npm run real:setup\``;
/** Longest a `pulumi up` or `destroy` of a bank may take here (about 20 s warm, on 2 shared cores). */
export const UP_TIMEOUT = 600_000;

export interface RealDeployment {
    /** The API server the stack deploys into. */
    cp: ControlPlane;
    /** The CLI, its plugin cache and state backend. */
    sandbox: PulumiSandbox;
    /** The project copy holding `stacks/Pulumi.<stack>.yaml`. */
    temp: TempProject;
    /** The stack (the bank alias). */
    stack: string;
    /** `pulumi <args> -s <stack> --non-interactive` in the project, with the control plane's kubeconfig. */
    pulumi(args: string[], timeoutMs?: number): Promise<string>;
    /** Stops and removes all of it; safe when the setup failed half way. */
    cleanup(): Promise<void>;
}

/** Everything up to (not including) `pulumi up`; secrets, if the stack needs them, are the caller's. */
export async function realDeployment(stack: string, passphrase: string): Promise<RealDeployment> {
    const cp = await startControlPlane();
    let sandbox: PulumiSandbox | undefined;
    let temp: TempProject | undefined;
    const cleanup = async () => {
        sandbox?.cleanup();
        temp?.cleanup();
        await cp.stop();
    };
    try {
        // The platform's namespace exists before any bank (the signer's Secret and Role go there): docs/devops.md.
        const ns = await kubectl(cp, ["create", "namespace", "dcm-platform"]);
        if (ns.code !== 0) throw new Error(`kubectl create namespace dcm-platform: ${ns.stderr}`);
        sandbox = pulumiSandbox(passphrase);
        await sandbox.installPlugins();
        temp = tempProject([stack]);
        const kube = { KUBECONFIG: cp.kubeconfig };
        const [s, t] = [sandbox, temp];
        const pulumi = (args: string[], timeoutMs = UP_TIMEOUT) => s.pulumi([...args, "-s", stack, "--non-interactive"], t.dir, kube, timeoutMs);
        await s.pulumi(["stack", "init", stack], t.dir);
        await pulumi(["config", "set", "skipAwait", "true"]);
        return { cp, sandbox: s, temp: t, stack, pulumi, cleanup };
    } catch (e) {
        await cleanup();
        throw e;
    }
}
