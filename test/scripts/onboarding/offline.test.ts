/**
 * `onboard --offline`: the Jira flow on a laptop, without the Pulumi CLI. Validation and the stack file are
 * the real ones; the preview is the offline render of the real program; nothing is deployed.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../../../scripts/onboard";
import { OfflineStackBackend } from "../../../scripts/lib/offline-stack-backend";
import { recordedTicket } from "../../../scripts/lib/onboarding/stack-file";
import { automationBody, ROOT, tempProject } from "./fixtures";

describe("npm run onboard -- --offline", () => {
    const temp = tempProject([]);
    const devMapping = path.join(temp.dir, "jira-mapping.yaml");
    const output: string[] = [];
    const run = async (body: unknown, ...flags: string[]) => {
        const file = path.join(temp.dir, `delivery-${Math.random().toString(36).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify(body));
        output.length = 0;
        // No backendFor: the command picks its backend from --offline itself, as a Jira admin runs it.
        return main(["--jira", file, "--project", temp.dir, "--workspaces", path.join(temp.dir, "ws"), "--no-comment", ...flags], {
            env: {}, out: (t) => output.push(t), err: (t) => output.push(t),
        });
    };

    before(() => {
        // A demo bank (Kratos on SQLite) needs no secrets, so the offline flow can go as far as the preview.
        const text = fs.readFileSync(path.join(ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n");
        fs.writeFileSync(devMapping, text);
    });
    after(() => temp.cleanup());

    it("without --offline on a machine with no Pulumi CLI: one sentence, exit 2, no stack file written", async () => {
        const code = await run(automationBody("DCMOPS-502", { alias: "kherson", displayName: "Kherson Bank" }), "--dry-run", "--mapping", devMapping);
        const text = output.join("");
        assert.equal(code, 2, text);
        assert.match(text, /the Pulumi CLI is not installed \(no `pulumi` on PATH\).*--offline/);
        assert.doesNotMatch(text, /ENOENT|spawn/);
        assert.equal(fs.existsSync(path.join(temp.dir, "stacks", "Pulumi.kherson.yaml")), false);
    });

    it("validates, writes the stack file and previews with the offline render, deploying nothing", async () => {
        const code = await run(automationBody("DCMOPS-501", { alias: "odesa", displayName: "Odesa Bank" }), "--offline", "--mapping", devMapping);
        const text = output.join("");
        assert.equal(code, 0, text);
        assert.match(text, /DCMOPS-501: previewed/);
        assert.match(text, /offline/);
        assert.match(text, /\+ kubernetes:apps\/v1:Deployment /, "the render's resources are listed as the preview");
        assert.equal(recordedTicket(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.odesa.yaml"), "utf8")), "DCMOPS-501");
    });

    it("refuses invalid ticket data offline as online, writing nothing", async () => {
        const before = fs.readdirSync(path.join(temp.dir, "stacks")).sort();
        const code = await run(automationBody("DCMOPS-502", { alias: "Bad_Alias" }), "--offline", "--mapping", devMapping);
        assert.equal(code, 2);
        assert.deepEqual(fs.readdirSync(path.join(temp.dir, "stacks")).sort(), before);
    });

    it("never deploys: up is refused with what to run instead", async () => {
        const stack = await new OfflineStackBackend(temp.dir).selectOrCreate("odesa");
        await assert.rejects(stack.up(), /offline mode deploys nothing: run without --offline/);
        assert.deepEqual(await stack.outputs(), {});
    });
});
