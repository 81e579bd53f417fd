/**
 * `npm run onboard` end to end in a temporary copy of the project: the fake Pulumi backend (real offline
 * render, stack locks), a fake Jira site on loopback, and the real post-deploy checks.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../../../scripts/onboard";
import { runChecks } from "../../../scripts/lib/checks";
import { plainText } from "../../../scripts/lib/jira/adf";
import { recordedTicket } from "../../../scripts/lib/onboarding/stack-file";
import { StackLockedError } from "../../../scripts/lib/engine/stack-backend";
import { FakeStackBackend } from "../../../scripts/lib/engine/fake-stack-backend";
import { FakeJira, startFakeJira } from "../../../support/fake-jira-server";
import { automationBody, tempProject, webhookBody } from "../../../support/onboarding/fixtures";
import { PROJECT_ROOT } from "../../../domain/project";

const CANARY = "CANARYonb5f1e";
const EMAIL = "devops@dcm.example";
const TOKEN = "jira-token-CANARY-91c2";

describe("npm run onboard", () => {
    const temp = tempProject();
    const devMapping = path.join(temp.dir, "jira-mapping.yaml");
    let jira: FakeJira;
    let lockUp = false;
    const fake = new FakeStackBackend({
        projectDir: temp.dir,
        secretCanary: CANARY,
        cacheRenders: true,
        fault: (stack, op) => (lockUp && op === "up" ? new StackLockedError(stack, "the stack is currently locked by 1 lock(s)") : undefined),
    });
    const workspaces: string[] = [];
    let passing = false;
    const output: string[] = [];

    const run = async (body: unknown, ...flags: string[]) => {
        const file = path.join(temp.dir, `delivery-${Math.random().toString(36).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify(body));
        const jiraBefore = jira.calls.length;
        const code = await main(["--jira", file, "--project", temp.dir, "--workspaces", path.join(temp.dir, "ws"), ...flags], {
            env: { JIRA_BASE_URL: jira.url, JIRA_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN },
            backendFor: (dir) => {
                workspaces.push(dir);
                return fake.forWorkspace(dir);
            },
            checks: async (stack, outputs) => {
                if (passing) return { stack, results: [{ id: "hosts.backoffice", step: "5", title: "backoffice host answers", status: "pass", ms: 12 }], passed: true, ms: 12 };
                // The real checks; every host resolves to a closed port on loopback, so they fail fast.
                const hosts = [outputs.backofficeHost, outputs.apiHost, new URL(String(outputs.keyKeeperUrl)).hostname].map((h) => `${String(h)}:443:127.0.0.1:1`);
                return runChecks({ stack, outputs, resolve: hosts, deadlineMs: 300, timeoutMs: 200 });
            },
            out: (t) => output.push(t),
            err: (t) => output.push(t),
        });
        return { code, calls: jira.calls.slice(jiraBefore) };
    };
    const commentText = (calls: FakeJira["calls"]) => calls.filter((c) => c.path.endsWith("/comment")).map((c) => plainText(c.body.body)).join("\n");

    before(async () => {
        jira = await startFakeJira(EMAIL, TOKEN);
        const text = fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n");
        fs.writeFileSync(devMapping, text);
    });
    after(async () => {
        await jira.close();
        temp.cleanup();
    });

    it("onboards a new bank: stack file, preview, up, checks, and a comment with the public facts and no secret", async () => {
        const { code, calls } = await run(automationBody("DCMOPS-101"), "--mapping", devMapping);
        assert.equal(code, 1, "the real checks cannot reach the hosts, so the run reports failed checks");
        const file = path.join(temp.dir, "stacks", "Pulumi.lviv.yaml");
        const text = fs.readFileSync(file, "utf8");
        assert.equal(recordedTicket(text), "DCMOPS-101");
        assert.match(text, /dcm-integration:alias: "lviv"/);
        assert.match(text, /dcm-integration:kratosDevMode: "true"/);
        assert.deepEqual(fake.calls.filter((c) => c.stack === "lviv").map((c) => c.op), ["select", "preview", "up", "outputs"]);
        assert.ok(fs.existsSync(path.join(workspaces[0], "Pulumi.yaml")) && path.basename(workspaces[0]) === "lviv", "a workspace directory per stack");

        const outputs = await (await fake.selectOrCreate("lviv")).outputs();
        const comment = commentText(calls);
        for (const key of ["backofficeHost", "apiHost", "jwksUrl", "kid"]) assert.ok(comment.includes(String(outputs[key].value)), `comment shows ${key}`);
        const pemBody = String(outputs.publicKeyPem.value).split("\n")[1];
        assert.ok(comment.includes(pemBody), "comment shows the public key");
        assert.match(comment, /Post-deploy checks: \d+ failed/);
        assert.match(comment, /FAIL/);
        const everything = [...calls.map((c) => c.text), ...output, text].join("\n");
        assert.ok(outputs.keyKeeperPasswords.secret && outputs.signingPrivateKeyPem.secret);
        assert.ok(!everything.includes(CANARY), "no generated password reaches Jira, the output or the file");
        assert.ok(!everything.includes("PRIVATE KEY"));
        assert.ok(!everything.includes(TOKEN));
        assert.ok(calls.every((c) => c.authorized));
    });

    it("a second delivery of the same ticket updates the same file (here: unchanged) and transitions the ticket", async () => {
        const before = temp.snapshot();
        passing = true;
        const { code, calls } = await run(webhookBody("DCMOPS-101"), "--mapping", devMapping);
        passing = false;
        assert.equal(code, 0);
        assert.deepEqual(temp.snapshot(), before);
        assert.match(output.join(""), /DCMOPS-101: succeeded \(stack 'lviv', stack file unchanged\)/);
        assert.deepEqual(calls.filter((c) => c.path.endsWith("/transitions") && c.method === "POST").map((c) => c.body.transition.id), ["31"]);
    });

    it("a changed field of the same ticket updates the file in place, keeping what was added by hand", async () => {
        const file = path.join(temp.dir, "stacks", "Pulumi.lviv.yaml");
        fs.appendFileSync(file, "  # Added by DevOps.\n  dcm-integration:activeSigningKey: a\n");
        const { code } = await run(automationBody("DCMOPS-101", { displayName: "Lviv Cooperative Bank PJSC" }), "--mapping", devMapping, "--dry-run");
        assert.equal(code, 0);
        const text = fs.readFileSync(file, "utf8");
        assert.match(text, /displayName: "Lviv Cooperative Bank PJSC"/);
        assert.match(text, /# Added by DevOps\.\n {2}dcm-integration:activeSigningKey: a/);
        assert.equal(recordedTicket(text), "DCMOPS-101");
        assert.equal(fake.calls.filter((c) => c.op === "up").length, 2, "a dry run does not deploy");
    });

    it("invalid data: names the Jira field and the config key, writes nothing, comments on the ticket", async () => {
        const before = temp.snapshot();
        const callsBefore = fake.calls.length;
        const { code, calls } = await run(automationBody("DCMOPS-102", { alias: "odesa", firstEmployeeEmail: "officer at odesa" }), "--mapping", devMapping);
        assert.equal(code, 2);
        assert.deepEqual(temp.snapshot(), before);
        assert.equal(fake.calls.length, callsBefore, "no stack operation");
        const expected = /Jira field 'First employee email \(customfield_10203\)' -> dcm-integration:firstEmployeeEmail: must be an email address/;
        assert.match(output.join(""), expected);
        assert.match(commentText(calls), expected);
    });

    it("another bank's alias is refused, its file untouched, whether hand-written or onboarded by another ticket", async () => {
        const before = temp.snapshot();
        for (const [alias, owner] of [["dnipro", /no Jira ticket \(written by hand\)/], ["lviv", /Jira ticket DCMOPS-101/]] as const) {
            const { code, calls } = await run(automationBody("DCMOPS-103", { alias }), "--mapping", devMapping);
            assert.equal(code, 2);
            assert.match(commentText(calls), new RegExp(`alias '${alias}' already belongs to another bank`));
            assert.match(commentText(calls), owner);
        }
        assert.deepEqual(temp.snapshot(), before);
    });

    it("without secrets in the stack file, writes the file and asks DevOps for them; no deploy", async () => {
        const ops = fake.calls.length;
        const { code, calls } = await run(automationBody("DCMOPS-104", { alias: "kyiv" }), "--mapping", path.join(PROJECT_ROOT, "jira-mapping.yaml"));
        assert.equal(code, 1);
        assert.equal(recordedTicket(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.kyiv.yaml"), "utf8")), "DCMOPS-104");
        assert.equal(fake.calls.length, ops);
        assert.match(commentText(calls), /pulumi config set --secret -s kyiv kratosDsn <value>/);
    });

    it("a locked stack fails the job with a comment saying so, and the file stays", async () => {
        lockUp = true;
        const { code, calls } = await run(automationBody("DCMOPS-101", { displayName: "Lviv Cooperative Bank PJSC" }), "--mapping", devMapping);
        lockUp = false;
        assert.equal(code, 1);
        assert.match(commentText(calls), /failed at: up/);
        assert.match(commentText(calls), /locked by another update/);
        assert.ok(fs.existsSync(path.join(temp.dir, "stacks", "Pulumi.lviv.yaml")));
    });

    it("refuses bad usage and missing credentials with exit code 2", async () => {
        assert.equal(await main([], { out: () => undefined, err: () => undefined }), 2);
        let err = "";
        const file = path.join(temp.dir, "x.json");
        fs.writeFileSync(file, JSON.stringify(automationBody("DCMOPS-105")));
        assert.equal(await main(["--jira", file, "--project", temp.dir], { env: {}, err: (t) => { err += t; } }), 2);
        assert.match(err, /set JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN, or pass --no-comment/);
    });
});
