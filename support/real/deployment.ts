/**
 * What a real `pulumi preview`/`up` of a bank needs, in one place for the real tests and `npm run bench -- up`:
 * a control plane with the platform's namespace, the sandboxed CLI with its plugins, and a temporary project
 * whose stacks set the platform setting skipAwait (the API server has no controllers: infra/skip-await.ts).
 */
import { realComponentsAvailable } from "../../real/components";
import { tempProject, TempProject } from "../onboarding/fixtures";
import { CONTROL_PLANE_COMPONENTS, ControlPlane, kubectl, startControlPlane } from "./apiserver";
import { pulumiSandbox, PulumiSandbox } from "./pulumi";

/** Every real component a preview or deployment of a bank runs. */
export const DEPLOYMENT_COMPONENTS = [...CONTROL_PLANE_COMPONENTS, "pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "pulumi-resource-random", "pulumi-resource-tls"];

/** Whether they are all built; otherwise a suite skips with DEPLOYMENT_SKIP. */
export const deploymentAvailable = realComponentsAvailable(DEPLOYMENT_COMPONENTS);
export const DEPLOYMENT_SKIP = `needs ${DEPLOYMENT_COMPONENTS.join(", ")}: run \`npm run real:setup\``;

/** Long enough for a whole bank's `pulumi up` on a shared 2-core machine. */
export const UP_TIMEOUT = 600_000;

export interface RealDeployment {
    /** The running etcd + kube-apiserver. */
    readonly cp: ControlPlane;
    /** The CLI, its home, plugin cache and file backend. */
    readonly sandbox: PulumiSandbox;
    /** The project copy (Pulumi.yaml pointing at the repository's infra/, the stack files given). */
    readonly temp: TempProject;
    /** The variables the CLI needs to reach the control plane. */
    readonly kube: NodeJS.ProcessEnv;
    /** `pulumi <args> -s <stack> --non-interactive` in `cwd` (the temp project unless given). */
    pulumi(stack: string, args: string[], options?: { cwd?: string; timeoutMs?: number }): Promise<string>;
    /** `pulumi stack init <stack>` and the skipAwait setting, in `cwd` (the temp project unless given). */
    initStack(stack: string, cwd?: string): Promise<void>;
    /**
     * Points this process' KUBECONFIG at the control plane until `stop()` restores it: the Automation API (fleet,
     * drift) starts the CLI with this process' environment, not the sandbox's.
     */
    exportKubeconfig(): void;
    /** Stops and removes everything, and restores KUBECONFIG; safe after a failed start. */
    stop(): Promise<void>;
}

/** Starts the control plane, creates `dcm-platform` (the signer's namespace exists before any bank: docs/devops.md) and the sandbox. */
export async function startDeployment(stacks: string[], passphrase = "test-passphrase-not-a-secret"): Promise<RealDeployment> {
    const cp = await startControlPlane();
    let sandbox: PulumiSandbox | undefined;
    let temp: TempProject | undefined;
    let restoreKubeconfig: (() => void) | undefined;
    const stop = async () => {
        restoreKubeconfig?.();
        restoreKubeconfig = undefined;
        sandbox?.cleanup();
        temp?.cleanup();
        await cp.stop();
    };
    try {
        const ns = await kubectl(cp, ["create", "namespace", "dcm-platform"]);
        if (ns.code !== 0) throw new Error(`kubectl create namespace dcm-platform: ${ns.stderr}`);
        sandbox = pulumiSandbox(passphrase);
        await sandbox.installPlugins();
        temp = tempProject(stacks);
        const kube = { KUBECONFIG: cp.kubeconfig };
        const s = sandbox;
        const t = temp;
        const pulumi: RealDeployment["pulumi"] = (stack, args, options = {}) =>
            s.pulumi([...args, "-s", stack, "--non-interactive"], options.cwd ?? t.dir, kube, options.timeoutMs ?? UP_TIMEOUT);
        return {
            cp, sandbox, temp, kube, pulumi, stop,
            exportKubeconfig() {
                if (restoreKubeconfig) return;
                const saved = process.env.KUBECONFIG;
                process.env.KUBECONFIG = cp.kubeconfig;
                restoreKubeconfig = () => {
                    if (saved === undefined) delete process.env.KUBECONFIG;
                    else process.env.KUBECONFIG = saved;
                };
            },
            async initStack(stack, cwd = t.dir) {
                await s.pulumi(["stack", "init", stack], cwd);
                await pulumi(stack, ["config", "set", "skipAwait", "true"], { cwd });
            },
        };
    } catch (e) {
        await stop();
        throw e;
    }
}

/** One bank's stack on a started deployment: `pulumi` bound to it. */
export interface BankDeployment {
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
    /** Stops and removes all of it. */
    cleanup(): Promise<void>;
}

/** Everything up to (not including) `pulumi up` of one bank, its stack initialised; secrets, if it needs them, are the caller's. */
export async function realDeployment(stack: string, passphrase?: string): Promise<BankDeployment> {
    const real = await startDeployment([stack], passphrase);
    try {
        await real.initStack(stack);
    } catch (e) {
        await real.stop();
        throw e;
    }
    return {
        cp: real.cp, sandbox: real.sandbox, temp: real.temp, stack,
        pulumi: (args, timeoutMs) => real.pulumi(stack, args, { timeoutMs }),
        cleanup: () => real.stop(),
    };
}
