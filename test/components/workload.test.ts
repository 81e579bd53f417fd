/** The hardened workload skeleton every long-running component builds on: its guards and what it always sets. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { hardenedWorkload, HardenedWorkloadArgs, RESTRICTED_CONTAINER } from "../../components/workload";
import { Registered, setMocks, settle, throwsResourceError } from "../../support/pulumi-mocks";

let registered: Registered[];
before(async () => { registered = await setMocks(); });

class Owner extends pulumi.ComponentResource {
    constructor(name: string) { super("test:index:Owner", name, {}, {}); }
}

const meta = { name: "w", namespace: "bank-demo-integrate", labels: { a: "b" } };
function args(name: string, over: Partial<HardenedWorkloadArgs> = {}): HardenedWorkloadArgs {
    return {
        owner: new Owner(name), ownerName: `Owner ${name}`, deploymentName: `${name}-deployment`, metadata: meta, replicas: 2,
        podLabels: { "dcm/role": name }, templateLabels: { "dcm/role": name, a: "b" }, uid: 101,
        containers: [{ name: "c", image: "i", securityContext: RESTRICTED_CONTAINER }], volumes: [], ...over,
    };
}

describe("hardenedWorkload", () => {
    it("refuses replicas that are not a positive integer", () => {
        for (const [i, replicas] of [0, -1, 1.5, Number.NaN].entries()) {
            throwsResourceError(() => hardenedWorkload(args(`bad-replicas-${i}`, { replicas })), new RegExp(`^Owner bad-replicas-${i}: replicas must be a positive integer, got ${replicas}$`));
        }
    });

    it("refuses a workload without containers", () => {
        throwsResourceError(() => hardenedWorkload(args("empty", { containers: [] })), /^Owner empty: a workload needs at least one container$/);
    });

    it("refuses a budget with both or neither of minAvailable and maxUnavailable, and one keeping every replica", () => {
        throwsResourceError(() => hardenedWorkload(args("both", { disruptionBudget: { name: "p", metadata: meta, minAvailable: 1, maxUnavailable: 1 } })), /exactly one of minAvailable and maxUnavailable/);
        throwsResourceError(() => hardenedWorkload(args("neither", { disruptionBudget: { name: "p", metadata: meta } })), /exactly one of minAvailable and maxUnavailable/);
        throwsResourceError(() => hardenedWorkload(args("all", { replicas: 2, disruptionBudget: { name: "p", metadata: meta, minAvailable: 2 } })), /minAvailable 2 needs more than 2 replicas, got 2/);
    });

    it("builds a Deployment whose pods mount no token and run as the image's non-root uid, its budget and its Services", async () => {
        hardenedWorkload(args("ok", {
            disruptionBudget: { name: "ok-pdb", metadata: meta, minAvailable: 1 },
            services: [{ name: "ok-svc", metadata: meta, ports: [{ name: "http", port: 80 }] }],
        }));
        await settle();
        const deployment = registered.find((r) => r.name === "ok-deployment")!;
        const pod = deployment.inputs.spec.template.spec;
        assert.equal(pod.automountServiceAccountToken, false);
        assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 101, runAsGroup: 101, fsGroup: 101, seccompProfile: { type: "RuntimeDefault" } });
        assert.deepEqual(deployment.inputs.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
        assert.deepEqual(registered.find((r) => r.name === "ok-pdb")!.inputs.spec, { minAvailable: 1, selector: { matchLabels: { "dcm/role": "ok" } } });
        assert.deepEqual(registered.find((r) => r.name === "ok-svc")!.inputs.spec, { type: "ClusterIP", selector: { "dcm/role": "ok" }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] });
    });
});
