/** BankNetworkPolicies built directly: no bootstrap egress without the API server's addresses; no open rule. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { BankNetworkPolicies, BankNetworkPoliciesArgs } from "../../components/bank-network-policies";
import { Registered, setMocks, settle, throwsResourceError } from "../../support/pulumi-mocks";

let registered: Registered[];
before(async () => { registered = await setMocks(); });

const args = (apiServerCidrs: string[]): BankNetworkPoliciesArgs => ({
    namespace: "bank-demo-integrate", labels: {}, ingressNamespace: "ingress-nginx",
    pods: { frontend: { r: "frontend" }, jwksServer: { r: "jwks" }, kratosServer: { r: "kratos" }, bootstrap: { r: "bootstrap" } },
    ports: { frontend: 8080, jwksServer: 8080, kratosPublic: 4433, kratosAdmin: 4434 },
    apiServerCidrs,
});

describe("BankNetworkPolicies", () => {
    it("refuses an empty list of API server addresses", () => {
        throwsResourceError(() => new BankNetworkPolicies("none", args([])), /^BankNetworkPolicies none: apiServerCidrs is empty$/);
    });

    it("names a source for every ingress rule and a destination for every egress rule", async () => {
        new BankNetworkPolicies("net", args(["10.0.0.1/32"]));
        await settle();
        const policies = registered.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.name.startsWith("net-"));
        assert.ok(policies.length > 0);
        for (const p of policies) {
            for (const rule of p.inputs.spec.ingress ?? []) assert.ok((rule.from ?? []).length > 0, `${p.name}: an ingress rule without sources`);
            for (const rule of p.inputs.spec.egress ?? []) assert.ok((rule.to ?? []).length > 0, `${p.name}: an egress rule without destinations`);
        }
    });
});
