/** The fake backend behaves like the CLI where callers depend on it: real outputs, secret flags, locks, faults. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as automation from "@pulumi/pulumi/automation";
import { pulumiCliMissing, StackLockedError, translate } from "../../scripts/lib/engine/stack-backend";
import { FakeStackBackend } from "../../scripts/lib/engine/fake-stack-backend";

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

describe("pulumiCliMissing", () => {
    it("finds an executable pulumi on PATH, and names what to do instead when there is none", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-path-"));
        try {
            const bin = path.join(dir, "pulumi");
            fs.writeFileSync(bin, "#!/bin/sh\n", { mode: 0o644 });
            assert.match(pulumiCliMissing("use X", { PATH: dir }) ?? "", /not installed.*, or use X$/, "a file that is not executable is no CLI");
            fs.chmodSync(bin, 0o755);
            assert.equal(pulumiCliMissing("use X", { PATH: `/nonexistent${path.delimiter}${dir}` }), undefined);
            assert.match(pulumiCliMissing("use X", {}) ?? "", /no `pulumi` on PATH/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the CLI backend's errors", () => {
    // The Automation API's CommandError reads "code: -2 / stdout: / stderr: Command failed ... error: ...": its first
    // line, all that the fleet's table and a ticket show, names nothing.
    // A result as the Automation API's (internal) CommandResult prints itself.
    const cliError = (stderr: string) => new (automation.CommandError as unknown as new (r: { toString(): string }) => Error)({ toString: () => `code: -2\n stdout: \n stderr: ${stderr}` });

    it("say the CLI's own error line first, naming the stack", () => {
        const e = translate("demo", cliError("Command failed with exit code 1: pulumi preview --stack demo\nerror: validating stack config: Stack 'demo' is missing configuration values 'trustedProxyCidrs'\n")) as Error;
        assert.equal(e.message.split("\n")[0], "pulumi (stack demo): validating stack config: Stack 'demo' is missing configuration values 'trustedProxyCidrs'");
    });

    it("keep a CLI failure without an error line, and any other error, as they are", () => {
        const bare = cliError("killed");
        assert.equal(translate("demo", bare), bare);
        const other = new Error("boom");
        assert.equal(translate("demo", other), other);
    });
});
