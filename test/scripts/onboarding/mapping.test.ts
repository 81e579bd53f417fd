import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { CONFIG_KEYS } from "../../../domain/config";
import { fieldText, formatDataProblems, parseMapping, prepareData } from "../../../scripts/lib/onboarding/mapping";
import { Delivery, parseDelivery } from "../../../scripts/lib/onboarding/payload";
import { automationBody, MAPPING, tempProject, webhookBody } from "../../../support/onboarding/fixtures";
import { PROJECT_ROOT } from "../../../domain/project";

const temp = tempProject();
after(() => temp.cleanup());

const prepare = (body: Record<string, unknown>) => {
    const parsed = parseDelivery(body);
    assert.ok(parsed.ok);
    return prepareData(parsed.delivery, MAPPING, temp.project);
};

describe("Jira delivery bodies", () => {
    it("reads Automation format, Jira format and webhooks alike", () => {
        const automation = parseDelivery(automationBody("DCMOPS-7"));
        const jiraFormat = parseDelivery({ issue: automationBody("DCMOPS-7") });
        const webhook = parseDelivery(webhookBody("DCMOPS-7"));
        for (const p of [automation, jiraFormat, webhook]) {
            assert.ok(p.ok);
            assert.equal(p.delivery.issueKey, "DCMOPS-7");
            assert.equal(p.delivery.fields.customfield_10201, "lviv");
        }
        assert.ok(webhook.ok && webhook.delivery.source === "webhook" && webhook.delivery.event === "jira:issue_created");
        assert.ok(automation.ok && automation.delivery.source === "automation");
    });

    it("says what is missing", () => {
        const cases: [unknown, RegExp][] = [
            [[1, 2], /must be a JSON object/],
            [{ fields: {} }, /no 'key'/],
            [{ key: "DCMOPS-7" }, /has no 'fields'/],
            [{ webhookEvent: "jira:issue_updated" }, /carries no 'issue'/],
            [{ key: "../../etc/passwd", fields: {} }, /not a Jira issue key/],
        ];
        for (const [body, message] of cases) {
            const p = parseDelivery(body);
            assert.ok(!p.ok);
            assert.match(p.message, message);
        }
    });
});

describe("the field mapping", () => {
    it("accepts valid data and fills defaults", () => {
        const p = prepare(automationBody("DCMOPS-7"));
        assert.ok(p.ok);
        assert.equal(p.alias, "lviv");
        assert.equal(p.settings.bank.assetCode, "UAH");
        assert.equal(p.settings.hosts.api, "api-lviv-integrate.dcm.example.com");
        // Secrets are never in a ticket, nor the server addresses that go with them: DevOps sets them.
        assert.ok(["kratosDsn", "kratosSmtpUri"].every((k) => p.pendingSecrets.includes(k)), p.pendingSecrets.join());
        assert.ok(p.pendingSecrets.every((k) => CONFIG_KEYS[k].secret || /^(kratos(Database|Smtp)Cidrs|apiServerCidr)$/.test(k)), p.pendingSecrets.join());
        // The API server's addresses are DevOps' too (no guessed default): pending until set.
        assert.ok(p.pendingSecrets.includes("apiServerCidr"));
        const devMode = prepareData((parseDelivery(automationBody("DCMOPS-7")) as { delivery: Delivery }).delivery, { ...MAPPING, defaults: { ...MAPPING.defaults, kratosDevMode: "true", apiServerCidr: ["10.0.0.1/32"] } }, temp.project);
        assert.ok(devMode.ok);
        assert.deepEqual(devMode.pendingSecrets, []);
    });

    it("reads select options, rich text and single-item lists", () => {
        assert.equal(fieldText({ value: " EUR " }).text, "EUR");
        assert.equal(fieldText({ type: "doc", version: 1, content: [{ type: "paragraph", content: [{ type: "text", text: "https://a.example/k" }] }] }).text, "https://a.example/k");
        assert.equal(fieldText(["x"]).text, "x");
        assert.match(fieldText(["x", "y"]).error!, /one value/);
        assert.equal(fieldText("   ").text, undefined);
    });

    it("names the Jira field and the config key of every problem", () => {
        const p = prepare(automationBody("DCMOPS-7", { firstEmployeeEmail: "not-an-email", keyKeeperUrl: "http://plain.example", displayName: undefined }));
        assert.ok(!p.ok);
        const lines = formatDataProblems(p.problems, "dcm-integration");
        assert.ok(lines.some((l) => /^Jira field 'Bank display name \(customfield_10202\)' -> dcm-integration:displayName: is empty or missing/.test(l)), lines.join("\n"));
        const again = prepare(automationBody("DCMOPS-7", { firstEmployeeEmail: "not-an-email", keyKeeperUrl: "http://plain.example" }));
        assert.ok(!again.ok);
        const text = formatDataProblems(again.problems, "dcm-integration").join("\n");
        assert.match(text, /Jira field 'First employee email \(customfield_10203\)' -> dcm-integration:firstEmployeeEmail: must be an email address/);
        assert.match(text, /Jira field 'Bank authorization URL \(customfield_10204\)' -> dcm-integration:keyKeeperUrl: .*https/);
    });

    it("rejects aliases with shell or path characters", () => {
        for (const alias of ["lviv; rm -rf /", "../../etc", "lviv/../demo", "$(id)", "Lviv", "a`b`"]) {
            const p = prepare(automationBody("DCMOPS-7", { alias }));
            assert.ok(!p.ok, alias);
            assert.ok(p.problems.some((x) => x.key === "alias" && /DNS label/.test(x.message)), alias);
        }
    });

    it("refuses a mapping file that misses step 8 data or maps unknown keys", () => {
        assert.throws(() => parseMapping("fields:\n  alias: customfield_1\n"), /fields\.displayName: is required/);
        assert.throws(() => parseMapping("fields:\n  alias: customfield_1\n  displayName: customfield_2\n  firstEmployeeEmail: customfield_3\n  keyKeeperUrl: customfield_4\n  tlsMode: customfield_5\n"), /fields\.tlsMode: not a bank setting/);
        assert.throws(() => parseMapping("fields:\n  alias: 'custom field 1'\n"), /fields\.alias\.field: must be a Jira field id/);
        const m = parseMapping("fields:\n  alias: customfield_1\n  displayName: summary\n  firstEmployeeEmail: customfield_3\n  keyKeeperUrl: customfield_4\ntransitions:\n  success: Done\n");
        assert.equal(m.fields.displayName?.field, "summary");
        assert.equal(m.transitions.success, "Done");
    });
});

describe("the Jira admin's way to the field ids", () => {
    it("is the same menu path in jira-mapping.yaml and docs/jira.md", () => {
        // Comment lines joined: the path may wrap in the mapping file.
        const flat = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8").replace(/\n#?\s*/g, " ");
        const menuPath = (file: string) => /Settings > [^(),]*?Custom fields/.exec(flat(file))?.[0];
        const inMapping = menuPath("jira-mapping.yaml");
        assert.ok(inMapping, "jira-mapping.yaml names the menu path");
        assert.equal(menuPath("docs/jira.md"), inMapping);
    });
});
