/**
 * The Pulumi Kubernetes Operator's manager (built by real:setup from its v2.9.0 source) run out-of-cluster against a
 * test control plane with the admin kubeconfig, every listener on loopback, no leader election.
 */
import * as path from "node:path";
import { realBinary } from "../../real/components";
import { ControlPlane, kubectl } from "./apiserver";
import { freePort, Running, start, waitUntil } from "./process";

export interface RunningOperator {
    readonly process: Running;
    /** SIGTERM (a graceful stop, as a rollout does). */
    stop(): Promise<void>;
    /** SIGKILL (a crashed or evicted operator pod). */
    kill(): Promise<void>;
}

/** Starts the manager and waits for its health endpoint; `env` adds variables (MAX_CONCURRENT_RECONCILES, ...). */
export async function startOperator(cp: ControlPlane, env: NodeJS.ProcessEnv = {}): Promise<RunningOperator> {
    const [health, programFs] = [await freePort(), await freePort()];
    const proc = start(realBinary("pulumi-kubernetes-operator"), [
        "--metrics-bind-address=0", `--health-probe-bind-address=127.0.0.1:${health}`,
        `--program-fs-addr=127.0.0.1:${programFs}`, `--program-fs-adv-addr=127.0.0.1:${programFs}`, "--leader-elect=false",
    ], { env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: cp.kubeconfig, POD_NAMESPACE: "pulumi-kubernetes-operator", ...env }, cwd: path.dirname(cp.kubeconfig) });
    await waitUntil("the operator's /readyz", async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).ok, proc, 120_000);
    return {
        process: proc,
        stop: () => proc.stop(10_000),
        async kill() {
            proc.child.kill("SIGKILL");
            await proc.exited;
        },
    };
}

/** The operator's CRDs, once the API server serves them (Established; `kubectl wait` fails before conditions exist). */
export async function waitForCrds(cp: ControlPlane): Promise<void> {
    const crds = ["stacks.pulumi.com", "programs.pulumi.com", "workspaces.auto.pulumi.com", "updates.auto.pulumi.com"];
    await waitUntil("the operator's CRDs established", async () => {
        for (const crd of crds) {
            const r = await kubectl(cp, ["get", "crd", crd, "-o", "jsonpath={.status.conditions[?(@.type==\"Established\")].status}"]);
            if (r.stdout.trim() !== "True") return false;
        }
        return true;
    }, undefined, 60_000);
}
