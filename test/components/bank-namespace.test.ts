/** BankNamespace built directly: restricted pods enforced, everything denied until admitted, bounded by a quota. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { BankNamespace } from "../../components/bank-namespace";
import { Registered, setMocks, settle } from "../../support/pulumi-mocks";

let registered: Registered[];
before(async () => { registered = await setMocks(); });

describe("BankNamespace", () => {
    it("enforces the restricted Pod Security Standard, denies all traffic by default and sets the default quota", async () => {
        new BankNamespace("bank", { name: "bank-demo-integrate", labels: { "dcm/alias": "demo" } });
        await settle();
        const ns = registered.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
        assert.equal(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        const deny = registered.find((r) => r.name === "bank-default-deny")!;
        assert.deepEqual(deny.inputs.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        assert.equal(registered.find((r) => r.name === "bank-quota")!.inputs.spec.hard.pods, "40");
    });
});
