/**
 * The fleet on the Pulumi Kubernetes Operator at 200 banks, against a real kube-apiserver (real:setup):
 * 1. render: the operator objects of 200 banks (one offline render of the demo bank, its objects renamed per alias,
 *    then operatorObjects and our policy per bank), ms per bank;
 * 2. apply: `kubectl apply --server-side` of them all (20 banks per call), ms per bank;
 * 3. the operator (v2.9.0, out-of-cluster, default MAX_CONCURRENT_RECONCILES 10) from its start to a Workspace
 *    (and its StatefulSet) for every one of the 200 Stacks: Workspaces per second. No kubelet: no update runs.
 * Prints figures measured in this one run; asserts nothing.
 */
import { performance } from "node:perf_hooks";
import { validateStackConfig } from "../infra/validation";
import { admissionPolicyObjects, operatorNamespaceObject, operatorObjects } from "../scripts/lib/engine/operator";
import { operatorPolicyViolations } from "../scripts/lib/engine/operator-policy";
import { bankRawConfig, yamlStream } from "../scripts/lib/engine/operator-render";
import { KubernetesObject, kubernetesObjects } from "../scripts/lib/engine/manifests";
import { runOffline } from "../scripts/lib/engine/offline-run";
import { missingComponents, realBinary } from "../real/components";
import { operatorCrdDir } from "../real/recipes";
import { PROJECT } from "../support/configs";
import { CONTROL_PLANE_COMPONENTS, kubectl, startControlPlane } from "../support/real/apiserver";
import { startOperator, waitForCrds } from "../support/real/operator";

const BANKS = 200;
const PER_APPLY = 20;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

async function main(): Promise<number> {
    const missing = missingComponents([...CONTROL_PLANE_COMPONENTS, "pulumi-kubernetes-operator"]);
    if (missing.length) {
        process.stderr.write(`operator bench needs ${missing.join(", ")}: run \`npm run real:setup\`\n`);
        return 2;
    }
    const t0 = performance.now();
    const demo = await runOffline({ stack: "demo", typecheck: false });
    if (!demo.ok) throw new Error(demo.error);
    const renderMs = performance.now() - t0;
    const demoObjects = JSON.stringify(kubernetesObjects(demo.resources));
    const aliases = Array.from({ length: BANKS }, (_, i) => `bank${String(i).padStart(3, "0")}`);

    const t1 = performance.now();
    const banks = aliases.map((alias) => {
        const result = validateStackConfig({ ...bankRawConfig(PROJECT, "demo"), alias }, alias);
        if (!result.ok) throw new Error(JSON.stringify(result.problems));
        const render = JSON.parse(demoObjects.replaceAll("-demo-", `-${alias}-`).replaceAll("bank-demo", `bank-${alias}`)) as KubernetesObject[];
        const bank = operatorObjects(result.settings, render, { commit: COMMIT });
        const violations = operatorPolicyViolations(bank.objects);
        if (violations.length) throw new Error(JSON.stringify(violations));
        return bank;
    });
    const objectsMs = performance.now() - t1;
    const op = validateStackConfig(bankRawConfig(PROJECT, "demo"), "demo");
    if (!op.ok) throw new Error("demo config");
    const platform = [operatorNamespaceObject(op.settings.platform.operator), ...admissionPolicyObjects(op.settings.platform.operator)];

    const cp = await startControlPlane();
    try {
        const must = async (args: string[], stdin?: string) => {
            const r = await kubectl(cp, args, stdin);
            if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
            return r.stdout;
        };
        await must(["create", "namespace", "dcm-platform"]);
        await must(["apply", "--server-side", "-f", operatorCrdDir(realBinary("pulumi-kubernetes-operator"))]);
        await waitForCrds(cp);
        await must(["apply", "--server-side", "--field-manager=dcm-fleet", "-f", "-"], yamlStream(platform));
        const t2 = performance.now();
        for (let i = 0; i < banks.length; i += PER_APPLY) {
            await must(["apply", "--server-side", "--field-manager=dcm-fleet", "-f", "-"], yamlStream(banks.slice(i, i + PER_APPLY).flatMap((b) => b.objects)));
        }
        const applyMs = performance.now() - t2;
        const ns = op.settings.platform.operator.namespace;
        const count = async (resource: string) => (await must(["get", resource, "-n", ns, "-o", "name"])).split("\n").filter(Boolean).length;

        const t3 = performance.now();
        const operator = await startOperator(cp);
        const readyMs = performance.now() - t3;
        let workspaces = 0;
        let statefulSets = 0;
        const deadline = Date.now() + 20 * 60_000;
        while ((workspaces < BANKS || statefulSets < BANKS) && Date.now() < deadline) {
            [workspaces, statefulSets] = [await count("workspaces.auto.pulumi.com"), await count("statefulsets")];
            await new Promise((r) => setTimeout(r, 500));
        }
        const operatorMs = performance.now() - t3;
        await operator.stop();

        const perBank = (ms: number) => (ms / BANKS).toFixed(1);
        const objectsPerBank = banks[0].objects.length;
        process.stdout.write([
            `banks: ${BANKS} (${objectsPerBank} operator objects each)`,
            `offline render of one bank (demo): ${(renderMs / 1000).toFixed(1)} s (the fleet renders each bank once; ${BANKS} banks at 2 at once ≈ ${((renderMs * BANKS) / 2 / 60_000).toFixed(0)} min)`,
            `operator objects + policy from a render: ${perBank(objectsMs)} ms per bank`,
            `server-side apply (${PER_APPLY} banks per kubectl call): ${perBank(applyMs)} ms per bank, ${(applyMs / 1000).toFixed(1)} s in all`,
            `operator: ready in ${(readyMs / 1000).toFixed(1)} s; ${workspaces}/${BANKS} Workspaces and ${statefulSets}/${BANKS} StatefulSets after ${(operatorMs / 1000).toFixed(1)} s: ${((workspaces / operatorMs) * 1000).toFixed(2)} Workspaces/s, ${(operatorMs / Math.max(workspaces, 1)).toFixed(0)} ms per Stack`,
            `ratio apply/objects per bank: ${(applyMs / objectsMs).toFixed(1)}`,
            "",
        ].join("\n"));
    } finally {
        await cp.stop();
    }
    return 0;
}

main().then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exitCode = 1; });
