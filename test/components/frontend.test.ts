/** Frontend built directly: its replicas guard and its disruption budget. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Frontend, FrontendArgs } from "../../components/frontend";
import { Registered, setMocks, settle, throwsResourceError } from "../../support/pulumi-mocks";

let registered: Registered[];
before(async () => { registered = await setMocks(); });

const args = (replicas?: number): FrontendArgs => ({
    namespace: "bank-demo-integrate", labels: { "dcm/alias": "demo" }, image: "registry.example/frontend:1.0.0@sha256:" + "a".repeat(64),
    apiBaseUrl: "https://api-demo-integrate.dcm.example.com", kratosPublicUrl: "https://backoffice-demo-integrate.dcm.example.com/.ory",
    bank: { alias: "demo", displayName: "Demo Bank" }, replicas,
});

describe("Frontend", () => {
    it("refuses replicas that are not a positive integer", () => {
        for (const [i, replicas] of [0, -2, 2.5].entries()) {
            throwsResourceError(() => new Frontend(`bad-${i}`, args(replicas)), new RegExp(`^Frontend bad-${i}: replicas must be a positive integer, got ${replicas}$`));
        }
    });

    it("keeps one pod through a drain with two replicas (the default), and has no budget with one", async () => {
        new Frontend("two", args());
        new Frontend("one", args(1));
        await settle();
        assert.equal(registered.find((r) => r.name === "two-deployment")!.inputs.spec.replicas, 2);
        assert.deepEqual(registered.find((r) => r.name === "two-pdb")!.inputs.spec.minAvailable, 1);
        assert.ok(!registered.some((r) => r.name === "one-pdb"), "no budget for one replica");
        assert.ok(registered.some((r) => r.name === "one-service"));
    });
});
