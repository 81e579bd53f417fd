/** The offline render names resources as the Pulumi engine does, so audit reports and runbook URNs match real state. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { engineUrn } from "../../scripts/lib/engine/offline-runtime";
import { render, Rendered } from "../../support/render";

describe("URNs of the offline render", () => {
    it("follow the engine's rule: the parent's whole type chain, never the root stack's type", () => {
        const root = engineUrn("demo", "p", "", "pulumi:pulumi:Stack", "p-demo");
        assert.equal(root, "urn:pulumi:demo::p::pulumi:pulumi:Stack::p-demo");
        const component = engineUrn("demo", "p", root, "dcm:integration:Kratos", "kratos");
        assert.equal(component, "urn:pulumi:demo::p::dcm:integration:Kratos::kratos");
        const nested = engineUrn("demo", "p", component, "dcm:integration:Inner", "inner");
        assert.equal(nested, "urn:pulumi:demo::p::dcm:integration:Kratos$dcm:integration:Inner::inner");
        assert.equal(engineUrn("demo", "p", nested, "kubernetes:core/v1:Secret", "s"), "urn:pulumi:demo::p::dcm:integration:Kratos$dcm:integration:Inner$kubernetes:core/v1:Secret::s");
    });

    describe("of a whole bank", () => {
        let demo: Rendered;
        before(async () => { demo = await render({ stack: "demo" }); });

        it("carry the root stack's type on the stack alone, and each child's type chain extends its parent's", () => {
            const byUrn = new Map(demo.resources.map((r) => [r.urn, r]));
            for (const r of demo.resources) {
                const chain = r.urn.split("::")[2];
                if (r.type === "pulumi:pulumi:Stack") continue;
                assert.ok(!chain.includes("pulumi:pulumi:Stack"), r.urn);
                assert.ok(chain.endsWith(r.type), r.urn);
                const parent = r.parent ? byUrn.get(r.parent) : undefined;
                assert.ok(parent, `${r.urn}: its parent ${r.parent} is a recorded resource`);
                const parentChain = parent.type === "pulumi:pulumi:Stack" ? "" : `${parent.urn.split("::")[2]}$`;
                assert.equal(chain, `${parentChain}${r.type}`, r.urn);
            }
        });
    });
});
