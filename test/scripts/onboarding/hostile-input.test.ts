/**
 * Ticket data an attacker (or a careless admin) controls: characters YAML 1.1 parsers take as line
 * breaks, key keeper URLs aimed at DCM's own network, deep nesting, forged ownership markers, and the
 * data-handling rules around them (ticket values over defaults, every problem in one round).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import * as YAML from "yaml";
import { CONFIG_KEYS } from "../../../domain/config";
import { validateStackConfig } from "../../../infra/validation";
import { formatDataProblems, mappedDelivery, prepareData } from "../../../scripts/lib/onboarding/mapping";
import { parseDelivery } from "../../../scripts/lib/onboarding/payload";
import { precheck } from "../../../scripts/lib/onboarding/pipeline";
import { checkOwnership, OwnershipError, recordedTicket, writeStackFile } from "../../../scripts/lib/onboarding/stack-file";
import { validRaw } from "../../../support/configs";
import { automationBody, MAPPING, tempProject } from "../../../support/onboarding/fixtures";

const temp = tempProject();
after(() => temp.cleanup());

const delivery = (body: Record<string, unknown>) => {
    const parsed = parseDelivery(body);
    assert.ok(parsed.ok);
    return parsed.delivery;
};

/** Characters that end a line for some parser, or hide text: each must be refused in every field. */
const REFUSED = [["\u2028", "2028"], ["\u2029", "2029"], ["\u0085", "0085"], ["\n", "000A"], ["\r", "000D"], ["\t", "0009"], ["\u200b", "200B"], ["\u202e", "202E"], ["\ufeff", "FEFF"]];

describe("validation refuses control, format and line separator characters in every string field", () => {
    // The settings read as strings (lists such as signingKeys have rules of their own).
    const keys = ["alias", "displayName", "assetCode", "firstEmployeeEmail", "keyKeeperUrl", "activeSigningKey", "kratosDevMode", "allowPrivateKeyKeeper",
        "baseDomain", "environment", "ingressClass", "tlsMode", "tlsIssuer", "frontendImage", "dcmApiUpstream", "ingressNamespace", "kratosDsn", "kratosSmtpUri"];
    assert.ok(keys.every((k) => k in CONFIG_KEYS));
    for (const [char, code] of REFUSED) {
        it(`U+${code}: names the field and the code point, never echoes the value`, () => {
            for (const key of keys) {
                const base = validRaw("demo", CONFIG_KEYS[key].secret ? { kratosDevMode: "false", kratosDsn: "postgres://u:p@db.example:5432/k", kratosSmtpUri: "smtps://u:p@mail.example:465" } : {});
                const current = typeof base[key] === "string" && base[key] !== "" ? String(base[key]) : "value";
                const marker = `CANARY${key}`;
                const result = validateStackConfig({ ...base, [key]: `${current.slice(0, 3)}${char}${marker}` }, "demo");
                assert.ok(!result.ok, `${key} with U+${code} was accepted`);
                const problem = result.problems.find((p) => p.key === key);
                assert.ok(problem, `${key}: no problem named the field (${JSON.stringify(result.problems)})`);
                assert.match(problem.message, new RegExp(`must not contain U\\+${code} \\(`));
                assert.ok(!result.problems.some((p) => p.message.includes(marker) || p.message.includes(char)), `${key}: the value was echoed`);
            }
        });
    }

    it("refuses them in the signing key list too", () => {
        const result = validateStackConfig(validRaw("demo", { signingKeys: [{ slot: "a", algorithm: "ES256\u2028kratosDevMode: true" }] }), "demo");
        assert.ok(!result.ok);
        assert.match(result.problems.find((p) => p.key === "signingKeys[0].algorithm")?.message ?? "", /must not contain U\+2028/);
    });

    it("reaches a Jira delivery's problems: the Jira field, the config key and the code point", () => {
        const fields = { alias: "lv\u2029iv", displayName: "Lviv\u2028# jira-ticket: DCMOPS-1", firstEmployeeEmail: "it@lviv.example\u0085", keyKeeperUrl: "https://keys.lviv.example/\u2028kratosDevMode: true" };
        const data = prepareData(delivery(automationBody("DCMOPS-501", fields)), MAPPING, temp.project);
        assert.ok(!data.ok);
        const lines = formatDataProblems(data.problems, "dcm-integration");
        for (const key of ["alias", "displayName", "firstEmployeeEmail", "keyKeeperUrl"]) assert.ok(data.problems.some((p) => p.key === key), key);
        assert.ok(lines.some((l) => /^Jira field 'Bank display name \(customfield_10202\)' -> dcm-integration:displayName: must not contain U\+2028 \(a line separator\)/.test(l)), lines.join("\n"));
        assert.ok(lines.every((l) => !/[\u2028\u2029\u0085]/.test(l) && !l.includes("kratosDevMode")));
    });
});

describe("keyKeeperUrl refuses DCM's own network", () => {
    const problem = (url: string, extra: Record<string, unknown> = {}) => {
        const r = validateStackConfig(validRaw("demo", { keyKeeperUrl: url, ...extra }), "demo");
        return r.ok ? undefined : r.problems.find((p) => p.key === "keyKeeperUrl")?.message;
    };
    const refused: [string, RegExp][] = [
        ["https://127.0.0.1/", /loopback/], ["https://127.8.9.10:8443/key", /loopback/], ["https://2130706433/", /loopback/], ["https://0x7f.1/", /loopback/],
        ["https://localhost/", /localhost/], ["https://LOCALHOST./", /localhost/], ["https://keeper.localhost/", /localhost/],
        ["https://[::1]/", /loopback/], ["https://[::ffff:127.0.0.1]/", /loopback/], ["https://[64:ff9b::7f00:1]/", /loopback/],
        ["https://169.254.169.254/latest/meta-data", /link-local/], ["https://[fe80::1]/", /link-local/],
        ["https://0.0.0.0/", /unspecified/], ["https://[::]/", /unspecified/],
        ["https://10.1.2.3/", /private/], ["https://172.20.0.1/", /private/], ["https://192.168.1.1/", /private/], ["https://100.64.0.1/", /private/], ["https://[fd00::1]/", /private/],
        ["https://224.0.0.1/", /multicast/], ["https://255.255.255.255/", /reserved/],
    ];
    for (const [url, kind] of refused) {
        it(`refuses ${url}`, () => {
            const message = problem(url);
            assert.ok(message, `${url} was accepted`);
            assert.match(message, kind);
            assert.match(message, /DCM-signed tokens/);
        });
    }

    it("accepts public names and addresses, and private ones only when the platform allows them", () => {
        for (const url of ["https://auth.lvivbank.example/keeper", "https://8.8.8.8/", "https://172.32.0.1/", "https://[2001:db8::1]/", "https://localhost.example/"]) assert.equal(problem(url), undefined, url);
        assert.match(problem("https://10.1.2.3/") ?? "", /allowPrivateKeyKeeper: true/);
        assert.equal(problem("https://10.1.2.3/", { allowPrivateKeyKeeper: "true" }), undefined);
        assert.equal(problem("https://[fd00::1]/", { allowPrivateKeyKeeper: "true" }), undefined);
        assert.match(problem("https://127.0.0.1/", { allowPrivateKeyKeeper: "true" }) ?? "", /loopback/, "loopback stays refused");
        const bad = validateStackConfig(validRaw("demo", { allowPrivateKeyKeeper: "yes" }), "demo");
        assert.ok(!bad.ok && bad.problems.some((p) => p.key === "allowPrivateKeyKeeper"));
    });
});

/** Every file under stacks/ as PyYAML (libyaml: YAML 1.1 line breaks, U+0085, U+2028, U+2029) reads it. */
function readWithLibyaml(dir: string): Record<string, { top: string[]; config: Record<string, unknown> }> | undefined {
    const script = [
        "import json, sys, os, yaml",
        "Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)",
        "out = {}",
        "for f in sorted(os.listdir(sys.argv[1])):",
        "    if not f.endswith('.yaml'): continue",
        "    doc = yaml.load(open(os.path.join(sys.argv[1], f), encoding='utf-8').read(), Loader=Loader)",
        "    out[f] = {'top': sorted(doc.keys()), 'config': doc.get('config') or {}}",
        "print(json.dumps(out))",
    ].join("\n");
    const run = spawnSync("python3", ["-c", script, dir], { encoding: "utf8" });
    if (run.error || /No module named 'yaml'/.test(run.stderr)) return undefined;
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as Record<string, { top: string[]; config: Record<string, unknown> }>;
}

describe("stack files: one line per value, whatever parser reads them", () => {
    const stacks = path.join(temp.dir, "stacks");
    const tricky = {
        alias: "zhytomyr",
        displayName: `"Zhytomyr" Bank: #1 \\ 'quoted' — Житомир ${"x".repeat(60)}`,
        firstEmployeeEmail: "o'brien+it@zhytomyr.example",
        keyKeeperUrl: "https://keys.zhytomyr.example/a: b?c='d' \"e\"",
        assetCode: "EUR",
    };

    it("a second, independent YAML 1.1 parser (libyaml) reads every written file with the same keys and values", (t) => {
        writeStackFile(temp.project, tricky.alias, "DCMOPS-510", tricky, tricky.displayName, { assetCode: "UAH", kratosDevMode: "true" });
        writeStackFile(temp.project, "rivne", "DCMOPS-511", { alias: "rivne", displayName: "Rivne Bank", firstEmployeeEmail: "a@rivne.example", keyKeeperUrl: "https://k.rivne.example" }, "Rivne Bank");
        // An update in place of a file that has keys and comments added by hand.
        fs.appendFileSync(path.join(stacks, "Pulumi.rivne.yaml"), "  # Added by DevOps.\n  dcm-integration:activeSigningKey: a\n");
        writeStackFile(temp.project, "rivne", "DCMOPS-511", { alias: "rivne", displayName: "Rivne Bank: renamed", firstEmployeeEmail: "a@rivne.example", keyKeeperUrl: "https://k.rivne.example", assetCode: "USD" }, "Rivne Bank: renamed");
        const libyaml = readWithLibyaml(stacks);
        if (!libyaml) return t.skip("python3 with PyYAML is not installed (pip install pyyaml)");
        const files = fs.readdirSync(stacks).filter((f) => f.endsWith(".yaml")).sort();
        assert.deepEqual(Object.keys(libyaml), files);
        for (const f of files) {
            const ours = YAML.parse(fs.readFileSync(path.join(stacks, f), "utf8")) as { config: Record<string, unknown> };
            assert.deepEqual(libyaml[f].top, Object.keys(ours).sort(), f);
            assert.deepEqual(Object.keys(libyaml[f].config).sort(), Object.keys(ours.config).sort(), f);
            assert.deepEqual(libyaml[f].config, ours.config, f);
        }
        const z = libyaml["Pulumi.zhytomyr.yaml"].config;
        for (const [k, v] of Object.entries(tricky)) assert.equal(z[`dcm-integration:${k}`], v, k);
        assert.equal(libyaml["Pulumi.rivne.yaml"].config["dcm-integration:assetCode"], "USD");
    });

    it("the writer itself refuses a value holding a line separator, whatever validation let through", () => {
        const before = temp.snapshot();
        const evil = { alias: "volyn", displayName: "Volyn Bank", firstEmployeeEmail: "a@volyn.example", keyKeeperUrl: "https://k.volyn.example/\u2028kratosDevMode: true" };
        assert.throws(() => writeStackFile(temp.project, "volyn", "DCMOPS-512", evil, "Volyn Bank"), /refusing to write a stack file value that contains U\+2028/);
        assert.throws(() => writeStackFile(temp.project, "rivne", "DCMOPS-511", { displayName: "Rivne\u0085secretsprovider: x" }, "Rivne"), /U\+0085/);
        assert.deepEqual(temp.snapshot(), before);
    });

    it("the ticket's own values win over the mapping's defaults in a new file", () => {
        const config = (YAML.parse(fs.readFileSync(path.join(stacks, "Pulumi.zhytomyr.yaml"), "utf8")) as { config: Record<string, string> }).config;
        assert.equal(config["dcm-integration:assetCode"], "EUR");
        assert.equal(config["dcm-integration:kratosDevMode"], "true", "a default no field holds is still written");
    });

    it("the header follows the display name; the owner line stays the first line", () => {
        const lines = fs.readFileSync(path.join(stacks, "Pulumi.rivne.yaml"), "utf8").split("\n");
        assert.equal(lines[0], "# jira-ticket: DCMOPS-511");
        assert.equal(lines[1], "# Rivne Bank: renamed: onboarding data from Jira DCMOPS-511 (npm run onboard).");
        assert.ok(!lines.some((l) => l.startsWith("# Rivne Bank: onboarding")), "the old name is gone");
        assert.ok(lines.includes("  # Added by DevOps."), "comments added by hand stay");
    });
});

describe("ownership is recorded where no value reaches it", () => {
    it("only the file's first line, as a whole, names the owner", () => {
        assert.equal(recordedTicket("# jira-ticket: DCMOPS-1\nconfig: {}\n"), "DCMOPS-1");
        // A marker inside a value or comment after U+2028 (a line break for libyaml, not for us) owns nothing.
        assert.equal(recordedTicket("# Evil Bank\u2028# jira-ticket: DCMOPS-9\n# jira-ticket: DCMOPS-1\nconfig: {}\n"), undefined);
        assert.equal(recordedTicket("# jira-ticket: DCMOPS-9\u2028x\nconfig: {}\n"), undefined);
        assert.equal(recordedTicket("config:\n  dcm-integration:displayName: \"x\"\n# jira-ticket: DCMOPS-9\n"), undefined);
    });

    it("a display name carrying a marker does not hand the file to another ticket", () => {
        const bank = { alias: "sumy", displayName: "Sumy Bank # jira-ticket: DCMOPS-666", firstEmployeeEmail: "a@sumy.example", keyKeeperUrl: "https://k.sumy.example" };
        writeStackFile(temp.project, "sumy", "DCMOPS-520", bank, bank.displayName);
        assert.equal(recordedTicket(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.sumy.yaml"), "utf8")), "DCMOPS-520");
        assert.throws(() => checkOwnership(temp.project, "sumy", "DCMOPS-666"), OwnershipError);
    });
});

describe("deep nesting and awkward fields", () => {
    const nested = (depth: number, leaf: unknown): unknown => {
        let v = leaf;
        for (let i = 0; i < depth; i++) v = [v];
        return v;
    };
    const adf = (depth: number): unknown => {
        let node: Record<string, unknown> = { type: "text", text: "lviv" };
        for (let i = 0; i < depth; i++) node = { type: "paragraph", content: [node] };
        return { type: "doc", version: 1, content: [node] };
    };

    it("an alias or a rich-text field nested 50,000 levels deep is a problem of that field, not a crash", () => {
        for (const alias of [nested(50_000, "lviv"), adf(50_000)]) {
            const pre = precheck(delivery(automationBody("DCMOPS-530", { alias })), { project: temp.project, mapping: MAPPING });
            assert.ok(!pre.ok);
            assert.match(pre.problems.join("\n"), /Jira field 'Bank alias \(customfield_10201\)' -> dcm-integration:alias: is nested deeper than 32 levels/);
        }
        // Jira's own shapes stay readable.
        const shallow = precheck(delivery(automationBody("DCMOPS-531", { alias: adf(5) })), { project: temp.project, mapping: MAPPING });
        assert.ok(shallow.ok, JSON.stringify(shallow));
    });

    it("the job gets only the mapped fields' text, never the rest of the body", () => {
        const body = automationBody("DCMOPS-532", { alias: "kherson" }) as { fields: Record<string, unknown> };
        body.fields.customfield_99999 = nested(50_000, "x");
        body.fields.description = "not mapped";
        const pre = precheck(delivery(body), { project: temp.project, mapping: MAPPING });
        assert.ok(pre.ok);
        assert.deepEqual(Object.keys(pre.prepared.delivery.fields).sort(), ["customfield_10201", "customfield_10202", "customfield_10203", "customfield_10204"]);
        assert.ok(Object.values(pre.prepared.delivery.fields).every((v) => typeof v === "string"));
        assert.ok(JSON.stringify(pre.prepared.delivery).length < 1000);
        assert.deepEqual(mappedDelivery(pre.prepared.delivery, MAPPING), pre.prepared.delivery, "mapping the mapped data again changes nothing");
    });

    it("a user field without an email says to use a text field; every problem comes in one round", () => {
        const user = { accountId: "5b10ac8d82e05b22cc7d4ef5", displayName: "Olena K.", active: true };
        const data = prepareData(delivery(automationBody("DCMOPS-533", { alias: undefined, firstEmployeeEmail: user, keyKeeperUrl: "https://127.0.0.1/" })), MAPPING, temp.project);
        assert.ok(!data.ok);
        const lines = formatDataProblems(data.problems, "dcm-integration").join("\n");
        assert.match(lines, /Bank alias \(customfield_10201\)' -> dcm-integration:alias: is empty or missing/);
        assert.match(lines, /First employee email \(customfield_10203\)' -> dcm-integration:firstEmployeeEmail: is a Jira user whose email address Jira does not share .* use a text field/);
        assert.match(lines, /Bank authorization URL \(customfield_10204\)' -> dcm-integration:keyKeeperUrl: must not name a loopback address/, "the present fields' format problems come in the same round");
        assert.equal(data.problems.filter((p) => p.key === "alias").length, 1, "a missing field is reported once");
    });

    it("a user field is recognised without accountId too, and gets the same advice naming the field", () => {
        const users = [
            { displayName: "Olena K.", active: true },
            { self: "https://dcm.atlassian.net/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5", active: true },
            { accountType: "atlassian", active: true },
            { avatarUrls: { "48x48": "https://avatar.example/o.png" } },
            // Server / Data Center: `name` is the username, never an email address.
            { name: "okovalenko", key: "JIRAUSER10100", displayName: "Olena Kovalenko" },
        ];
        for (const user of users) {
            const data = prepareData(delivery(automationBody("DCMOPS-534", { firstEmployeeEmail: user })), MAPPING, temp.project);
            assert.ok(!data.ok);
            const lines = formatDataProblems(data.problems, "dcm-integration");
            assert.deepEqual(lines.filter((l) => l.includes("firstEmployeeEmail")).length, 1, JSON.stringify(user));
            assert.match(lines.join("\n"), /^Jira field 'First employee email \(customfield_10203\)' -> dcm-integration:firstEmployeeEmail: is a Jira user whose email address Jira does not share .*; use a text field for the first employee's email$/m, JSON.stringify(user));
        }
        // A user that does share its address, and a select option, are still read.
        const shared = prepareData(delivery(automationBody("DCMOPS-535", { firstEmployeeEmail: { displayName: "Olena K.", emailAddress: "officer@lvivbank.example" }, assetCode: { self: "https://dcm.atlassian.net/rest/api/3/customFieldOption/10001", value: "UAH", id: "10001" } })), MAPPING, temp.project);
        assert.ok(shared.ok, JSON.stringify(shared));
        assert.equal(shared.bank.firstEmployeeEmail, "officer@lvivbank.example");
        assert.equal(shared.bank.assetCode, "UAH");
    });
});
