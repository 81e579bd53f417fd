/**
 * Change control (issue 23): once a bank's stack file exists, a delivery that changes where DCM sends
 * secrets or tokens (keyKeeperUrl) or who receives the first login (firstEmployeeEmail) is held: the file
 * keeps the old value, nothing is deployed or checked against the new one, the status is needs-approval,
 * and the comment and the output name the field (old and new host or address) and how DevOps approve it.
 * Also: one pass per delivery (issue 22 point 3), counted.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it, mock } from "node:test";
import * as YAML from "yaml";
import { main } from "../../../scripts/onboard";
import { plainText } from "../../../scripts/lib/jira/adf";
import { CONTROLLED_KEYS } from "../../../scripts/lib/onboarding/change-control";
import * as mappingModule from "../../../scripts/lib/onboarding/mapping";
import { parseDelivery } from "../../../scripts/lib/onboarding/payload";
import { onboard, precheck, runOnboarding } from "../../../scripts/lib/onboarding/pipeline";
import * as stackFileModule from "../../../scripts/lib/onboarding/stack-file";
import { FakeStackBackend } from "../../../scripts/lib/engine/fake-stack-backend";
import { FakeJira, startFakeJira } from "../../../support/fake-jira-server";
import { PROJECT_ROOT as ROOT } from "../../../domain/project";
import { automationBody, BankFields, tempProject } from "../../../support/onboarding/fixtures";

const EMAIL = "devops@dcm.example";
const TOKEN = "jira-token-cc-41d7";
const OLD_URL = "https://auth.lvivbank.example/keeper";
const EVIL_URL = "https://keys.attacker.example/steal";

describe("change control of an existing bank's controlled fields", () => {
    const temp = tempProject([]);
    const devMapping = path.join(temp.dir, "jira-mapping.yaml");
    const fake = new FakeStackBackend({ projectDir: temp.dir, cacheRenders: true });
    let jira: FakeJira;
    const output: string[] = [];
    /** The keyKeeperUrl each post-deploy check run was given. */
    const checkedUrls: string[] = [];
    const file = () => path.join(temp.dir, "stacks", "Pulumi.lviv.yaml");
    const config = () => (YAML.parse(fs.readFileSync(file(), "utf8")) as { config: Record<string, string> }).config;

    const run = async (bank: BankFields, ...flags: string[]) => {
        const delivery = path.join(temp.dir, `delivery-${Math.random().toString(36).slice(2)}.json`);
        fs.writeFileSync(delivery, JSON.stringify(automationBody("DCMOPS-901", bank)));
        output.length = 0;
        const before = jira.calls.length;
        const offline = flags.includes("--offline");
        const code = await main(["--jira", delivery, "--project", temp.dir, "--workspaces", path.join(temp.dir, "ws"), "--mapping", devMapping, ...(offline ? ["--no-comment"] : []), ...flags], {
            env: { JIRA_BASE_URL: jira.url, JIRA_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN },
            ...(offline ? {} : { backendFor: (dir: string) => fake.forWorkspace(dir) }),
            checks: async (stack, outputs) => {
                checkedUrls.push(String(outputs.keyKeeperUrl));
                return { stack, results: [], passed: true, ms: 1 };
            },
            out: (t) => output.push(t),
            err: (t) => output.push(t),
        });
        return { code, text: output.join(""), calls: jira.calls.slice(before) };
    };
    const comments = (calls: FakeJira["calls"]) => calls.filter((c) => c.path.endsWith("/comment")).map((c) => plainText(c.body.body)).join("\n");
    const transitions = (calls: FakeJira["calls"]) => calls.filter((c) => c.path.endsWith("/transitions") && c.method === "POST");

    before(async () => {
        jira = await startFakeJira(EMAIL, TOKEN);
        fs.writeFileSync(devMapping, fs.readFileSync(path.join(ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
    });
    after(async () => {
        await jira.close();
        temp.cleanup();
    });

    it("the first delivery sets them: a new bank is onboarded as before", async () => {
        const { code, text } = await run({});
        assert.equal(code, 0, text);
        assert.equal(config()["dcm-integration:keyKeeperUrl"], OLD_URL);
        assert.deepEqual(checkedUrls, [OLD_URL]);
    });

    for (const [key, changed, shownOld, shownNew] of [
        ["keyKeeperUrl", { keyKeeperUrl: `${EVIL_URL}?session=abc` }, "https://auth.lvivbank.example/keeper", "https://keys.attacker.example/steal"],
        ["firstEmployeeEmail", { firstEmployeeEmail: "mallory@attacker.example" }, "officer@lvivbank.example", "mallory@attacker.example"],
    ] as const) {
        it(`a changed ${key} is held online: the file keeps the old value, nothing checks the new one, the comment says how to approve`, async () => {
            const deployedBefore = fake.calls.filter((c) => c.op === "up").length;
            const checksBefore = checkedUrls.length;
            const { code, text, calls } = await run({ ...changed, displayName: `Lviv Bank (${key})` });
            assert.equal(code, 1, text);
            assert.match(text, /DCMOPS-901: needs-approval/);
            const cfg = config();
            assert.equal(cfg[`dcm-integration:${key}`], key === "keyKeeperUrl" ? OLD_URL : "officer@lvivbank.example", "the stack file keeps the old value");
            assert.equal(cfg["dcm-integration:displayName"], `Lviv Bank (${key})`, "the other fields still apply");
            // Deployed with the old value only: every check run since was given the old URL.
            assert.ok(fake.calls.filter((c) => c.op === "up").length > deployedBefore);
            assert.deepEqual(checkedUrls.slice(checksBefore), [OLD_URL]);
            const said = `${text}\n${comments(calls)}`;
            assert.ok(said.includes(`${key}: ${shownOld} -> ${shownNew}`), said);
            assert.doesNotMatch(said, /session=abc/, "a query (it may hold a token) is never shown");
            assert.match(comments(calls), /Held for DevOps' approval/);
            assert.match(comments(calls), /reviewed merge request/);
            assert.match(text, /DevOps approve a held change outside Jira:\n\s+1\. Confirm the change with the bank/);
            assert.match(comments(calls), /A Jira field, label or transition cannot approve this/);
            // Not the success transition: a held change is not done.
            assert.ok(transitions(calls).every((c) => c.body.transition.id !== "31"), JSON.stringify(transitions(calls)));
        });
    }

    it("--offline alike: the change is held, the trial's file keeps the old value", async () => {
        const before = config()["dcm-integration:keyKeeperUrl"];
        const { code, text } = await run({ keyKeeperUrl: EVIL_URL }, "--offline");
        assert.equal(code, 1, text);
        assert.match(text, /needs-approval/);
        assert.match(text, /keyKeeperUrl: https:\/\/auth\.lvivbank\.example\/keeper -> https:\/\/keys\.attacker\.example\/steal/);
        assert.equal(config()["dcm-integration:keyKeeperUrl"], before);
    });

    it("approval is DevOps' edit of the stack file (reviewed): the next delivery with that value deploys it", async () => {
        const text = fs.readFileSync(file(), "utf8").replace(`dcm-integration:keyKeeperUrl: "${OLD_URL}"`, `dcm-integration:keyKeeperUrl: "https://auth2.lvivbank.example/keeper"`);
        fs.writeFileSync(file(), text);
        const { code, text: out } = await run({ keyKeeperUrl: "https://auth2.lvivbank.example/keeper" });
        assert.equal(code, 0, out);
        assert.match(out, /succeeded/);
        assert.equal(checkedUrls.at(-1), "https://auth2.lvivbank.example/keeper");
    });

    it("a Jira field that would approve does not exist: the mapping cannot fill anything but bank data, and the controlled keys are among them", () => {
        for (const k of CONTROLLED_KEYS) assert.ok((mappingModule.MAPPABLE_KEYS as readonly string[]).includes(k));
        assert.throws(() => mappingModule.parseMapping("fields:\n  alias: customfield_1\n  displayName: customfield_2\n  firstEmployeeEmail: customfield_3\n  keyKeeperUrl: customfield_4\n  approved: customfield_5\n"), /fields\.approved: not a bank setting/);
    });
});

describe("the stack-file writer is the single guard against the file changing in between", () => {
    const temp = tempProject([]);
    after(() => temp.cleanup());
    const mapping = mappingModule.parseMapping(fs.readFileSync(path.join(ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
    const delivery = (key: string, bank: BankFields) => {
        const parsed = parseDelivery(automationBody(key, bank));
        assert.ok(parsed.ok);
        return parsed.delivery;
    };

    it("a delivery prepared for a new bank, whose file another delivery created meanwhile with another key keeper, is held whole", async () => {
        const pre = precheck(delivery("DCMOPS-910", { alias: "ternopil", keyKeeperUrl: EVIL_URL }), { project: temp.project, mapping });
        assert.ok(pre.ok && pre.prepared.held.length === 0 && !pre.prepared.ownership.exists);
        // Meanwhile, the same ticket's earlier delivery wrote the file.
        const first = await onboard(delivery("DCMOPS-910", { alias: "ternopil" }), { project: temp.project, mapping, workspacesDir: path.join(temp.dir, "ws"), backendFor: () => { throw new Error("no deploy in this test"); } });
        assert.equal(first.file, "created");
        const written = fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.ternopil.yaml"), "utf8");
        let deployed = false;
        const result = await runOnboarding(pre.prepared, { project: temp.project, mapping, workspacesDir: path.join(temp.dir, "ws"), backendFor: () => { deployed = true; throw new Error("must not deploy"); } });
        assert.equal(result.status, "needs-approval");
        assert.match(result.problems.join("\n"), /keyKeeperUrl: https:\/\/auth\.lvivbank\.example\/keeper -> https:\/\/keys\.attacker\.example\/steal/);
        assert.equal(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.ternopil.yaml"), "utf8"), written);
        assert.equal(deployed, false);
    });

    it("one job calls the data preparation and the ownership check once each before the writer's own guard", async () => {
        const prepareData = mock.method(mappingModule, "prepareData");
        const checkOwnership = mock.method(stackFileModule, "checkOwnership");
        const writeStackFile = mock.method(stackFileModule, "writeStackFile");
        try {
            const result = await onboard(delivery("DCMOPS-920", { alias: "uzhhorod" }), { project: temp.project, mapping, workspacesDir: path.join(temp.dir, "ws"), backendFor: () => { throw new Error("stop after the file"); } });
            assert.equal(result.file, "created", JSON.stringify(result));
            assert.equal(prepareData.mock.callCount(), 1, "data preparation once");
            assert.equal(checkOwnership.mock.callCount(), 1, "the ownership check once (the writer's own guard calls its module's function directly)");
            assert.equal(writeStackFile.mock.callCount(), 1);
            // Once more for an existing bank (the update path reads the file's config through the same check).
            const again = await onboard(delivery("DCMOPS-920", { alias: "uzhhorod", displayName: "Uzhhorod Bank" }), { project: temp.project, mapping, workspacesDir: path.join(temp.dir, "ws"), backendFor: () => { throw new Error("stop after the file"); } });
            assert.equal(again.file, "updated");
            assert.equal(prepareData.mock.callCount(), 2);
            assert.equal(checkOwnership.mock.callCount(), 2);
        } finally {
            mock.restoreAll();
        }
    });
});

describe("apiServerCidr is DevOps' to give, never guessed", () => {
    const temp = tempProject([]);
    after(() => temp.cleanup());

    it("jira-mapping.yaml carries no default; a new bank's stack file gets none, and onboarding says how DevOps set it", async () => {
        const mapping = mappingModule.loadMapping(path.join(ROOT, "jira-mapping.yaml"));
        assert.equal(mapping.defaults.apiServerCidr, undefined);
        const parsed = parseDelivery(automationBody("DCMOPS-930", { alias: "kyiv" }));
        assert.ok(parsed.ok);
        const result = await onboard(parsed.delivery, { project: temp.project, mapping, workspacesDir: path.join(temp.dir, "ws"), backendFor: () => { throw new Error("nothing deploys without it"); } });
        assert.equal(result.status, "needs-secrets");
        assert.match(result.problems.join("\n"), /dcm-integration:apiServerCidr is not set yet: pulumi config set --path -s kyiv 'apiServerCidr\[0\]' <address>\/32 \(.*kubectl get endpoints kubernetes -n default/);
        assert.doesNotMatch(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.kyiv.yaml"), "utf8"), /apiServerCidr/);
    });
});

describe("a held field's new value is still validated", () => {
    const temp = tempProject([]);
    after(() => temp.cleanup());
    const mapping = mappingModule.parseMapping(fs.readFileSync(path.join(ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
    const delivery = (bank: BankFields) => {
        const parsed = parseDelivery(automationBody("DCMOPS-940", { alias: "chernihiv", ...bank }));
        assert.ok(parsed.ok);
        return parsed.delivery;
    };

    it("an invalid new email of an existing bank is invalid data (not a change to approve); a valid one is held, the settings keep the old", async () => {
        const first = await onboard(delivery({}), { project: temp.project, mapping, workspacesDir: path.join(temp.dir, "ws"), backendFor: () => { throw new Error("stop"); } });
        assert.equal(first.file, "created");
        const bad = precheck(delivery({ firstEmployeeEmail: "broken" }), { project: temp.project, mapping });
        assert.ok(!bad.ok && bad.status === "invalid", JSON.stringify(bad));
        assert.match(bad.problems.join("\n"), /firstEmployeeEmail: must be an email address/);
        const changed = precheck(delivery({ keyKeeperUrl: EVIL_URL }), { project: temp.project, mapping });
        assert.ok(changed.ok);
        assert.deepEqual(changed.prepared.held.map((h) => h.key), ["keyKeeperUrl"]);
        assert.equal(changed.prepared.settings.bank.keyKeeperUrl, OLD_URL, "the settings are the stack's: the old URL");
        assert.equal(changed.prepared.values.keyKeeperUrl, undefined, "the new value is not among the values to write");
    });
});
