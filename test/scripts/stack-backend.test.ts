/** The fake backend behaves like the CLI where callers depend on it: real outputs, secret flags, locks, faults. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StackLockedError } from "../../scripts/lib/stack-backend";
import { FakeStackBackend } from "../helpers/fake-stack-backend";

describe("fake stack backend", () => {
    it("deploys the real program and returns its outputs with secret flags", async () => {
        const backend = new FakeStackBackend();
        const stack = await backend.selectOrCreate("demo");
        assert.deepEqual(await stack.outputs(), {}, "a new stack has no outputs");
        const lines: string[] = [];
        const summary = await stack.up((l) => lines.push(l));
        assert.ok((summary.create ?? 0) > 5);
        assert.ok(lines.some((l) => /tls:index\/privateKey:PrivateKey/.test(l)));
        const outputs = await stack.outputs();
        assert.equal(outputs.apiHost.value, "api-demo-integrate.dcm.example.com");
        assert.equal(outputs.apiHost.secret, false);
        assert.equal(outputs.signingPrivateKeyPem.secret, true);
        assert.match(String(outputs.signingPrivateKeyPem.value), /BEGIN PRIVATE KEY/);
        assert.deepEqual(backend.deployedStacks, ["demo"]);
    });

    it("refuses a second up on a locked stack, and injects faults", async () => {
        const backend = new FakeStackBackend({ delayMs: 300, fault: (stack, op) => (stack === "dnipro" && op === "preview" ? new Error("injected") : undefined) });
        const demo = await backend.selectOrCreate("demo");
        const results = await Promise.allSettled([demo.up(), demo.up()]);
        assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
        const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        assert.ok(rejected.reason instanceof StackLockedError);
        const dnipro = await backend.selectOrCreate("dnipro");
        await assert.rejects(dnipro.preview(), /injected/);
    });

    it("fails preview with the program's config errors, like the CLI", async () => {
        const backend = new FakeStackBackend();
        const stack = await backend.selectOrCreate("demo");
        await stack.setConfig({ "dcm-integration:assetCode": { value: "ZZZ", secret: false } });
        await assert.rejects(stack.preview(), /dcm-integration:assetCode must be an ISO 4217 currency code/);
    });
});
