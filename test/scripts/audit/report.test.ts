/** Reports from preview fixtures: flags highest first, field changes, policy results, secrets never shown. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toJson, toSarif } from "../../../scripts/lib/audit/data";
import { KNOWN_AFTER_APPLY } from "../../../scripts/lib/audit/display";
import { auditPreviews } from "../../../scripts/lib/audit/from-preview";
import { assembleReport } from "../../../scripts/lib/audit/report";
import { toHtml } from "../../../scripts/lib/audit/html";
import { toMarkdown } from "../../../scripts/lib/audit/markdown";
import type { AuditReport, ResourceChange } from "../../../scripts/lib/audit/model";
import { parsePreview, PULUMI_SECRET_SIG, PULUMI_SIG_KEY } from "../../../scripts/lib/audit/preview";
import { CANARY, fixture, previewOf, reportOf, urnOf } from "./helpers";

const both = reportOf("demo.json", "dnipro.json");
const bank = (report: AuditReport, name: string) => report.banks.find((b) => b.bank === name)!;
const byName = (report: AuditReport, name: string): ResourceChange => {
    const c = report.banks.flatMap((b) => b.changes).find((x) => x.name === name);
    assert.ok(c, `a change of ${name}`);
    return c;
};
/** A resource's change in one bank's section (both banks change their ListenerSet, JWKS and Kratos secrets). */
const inBank = (report: AuditReport, name: string, resource: string): ResourceChange => {
    const c = bank(report, name).changes.find((x) => x.name === resource);
    assert.ok(c, `a change of ${resource} in ${name}`);
    return c;
};
const kinds = (c: ResourceChange) => c.flags.map((f) => f.kind);
const texts = (report: AuditReport) => [toMarkdown(report), toHtml(report), toJson(report), toSarif(report)];

describe("audit report from a preview", () => {
    it("never lets a planted secret reach the report, in Markdown, HTML, JSON or SARIF", () => {
        for (const name of ["demo.json", "dnipro.json"]) {
            for (const text of texts(reportOf(name))) {
                assert.ok(!text.includes(CANARY), `${name}: a canary leaked: ${text.slice(Math.max(0, text.indexOf(CANARY) - 200), text.indexOf(CANARY) + 50)}`);
                assert.ok(!/PRIVATE KEY/.test(text), `${name}: a private key block leaked`);
            }
        }
        // The fixtures really hold plaintext canaries where a real preview shows plaintext: values nobody marked secret.
        const raw = JSON.stringify([fixture("demo.json"), fixture("dnipro.json")]);
        for (const where of ["CANARY-plain-env-smtp-password", "CANARY-old-courier-password", "CANARY-new-courier-password", "CANARY-dsn-pass"]) {
            assert.ok(raw.includes(where), `fixture holds ${where}`);
        }
    });

    it("masks a plain env value whose name looks secret, and says it was masked by shape", () => {
        const added = byName(both, "frontend-deployment").fields.find((f) => f.path.endsWith(".env[4]"));
        assert.equal(added?.new, '{"name":"SMTP_PASSWORD","value":"[secret]"}', "the name stays, the value is masked");
        assert.equal(added?.maskedByShape, true);
        const rotated = byName(both, "kratos-courier").fields.find((f) => f.path.endsWith(".value"));
        assert.deepEqual([rotated?.old, rotated?.new, rotated?.maskedByShape], ["[secret]", "[secret]", true]);
        // Credentials in a URI inside a config file: masked where they sit, said so.
        const dsn = byName(both, "kratos-config").fields[0];
        assert.equal(dsn.maskedByShape, true);
        assert.ok(!dsn.new?.includes(CANARY));
        for (const text of [toMarkdown(both), toHtml(both)]) {
            assert.match(text, /masked by shape/);
            assert.match(text, /not marked secret by Pulumi or the program/);
        }
    });

    it("masks the value of Pulumi's secret sentinel, wherever in a state it sits", () => {
        const secret = { [PULUMI_SIG_KEY]: PULUMI_SECRET_SIG, value: "CANARY-sentinel-value-1234" };
        const urn = urnOf("demo", "dcm:integration:Kratos$kubernetes:core/v1:ConfigMap", "kratos-config");
        const state = (data: unknown) => ({ urn, custom: true, type: "kubernetes:core/v1:ConfigMap", inputs: { data }, outputs: { data } });
        const report = auditPreviews([previewOf({
            steps: [{ op: "update", urn, oldState: state({ note: "x" }), newState: state({ note: secret }), detailedDiff: { "data.note": { kind: "update", inputDiff: false } } }],
            changeSummary: { update: 1 },
        })], { policies: false });
        const field = byName(report, "kratos-config").fields[0];
        assert.deepEqual([field.new, field.secret], ["[secret]", true]);
        for (const text of texts(report)) assert.ok(!text.includes("CANARY"), "the sentinel's value leaked");
    });

    it("flags the signing key and key-keeper changes highest, with the action the bank must take", () => {
        const demo = bank(both, "demo");
        const first = demo.changes[0];
        assert.equal(first.name, "jwt-signing-key-a-keypair");
        assert.deepEqual([first.op, first.flags[0].kind, first.flags[0].severity], ["replace", "signing-key", "critical"]);
        assert.match(first.flags[0].message, /bank must receive the new public key/);
        assert.match(byName(both, "key-keeper-identification").flags[0].message, /re-register/);
        const slotB = byName(both, "jwt-signing-key-b-keypair");
        assert.equal(slotB.op, "delete");
        assert.match(slotB.flags[0].message, /leaves the JWKS/, "a deleted key is no new key to send");
        for (const b of both.banks) {
            const ranks = b.changes.map((c) => (c.flags.length ? Math.min(...c.flags.map((f) => ["critical", "high", "medium", "low"].indexOf(f.severity))) : 9));
            assert.deepEqual(ranks.slice(0, 3), [...ranks].sort((x, y) => x - y).slice(0, 3), `${b.bank}: highest first`);
        }
    });

    it("says why a key pair or password is replaced, from its old and new inputs (the CLI gives their replacements no field diff)", () => {
        const row = (bankName: string, name: string) => inBank(both, bankName, name).fields.map((f) => [f.path, f.kind, f.old, f.new, f.replace]);
        assert.deepEqual(row("demo", "jwt-signing-key-a-keypair"), [["ecdsaCurve", "update", '"P256"', '"P384"', true]]);
        assert.deepEqual(row("demo", "key-keeper-identification"), [["length", "update", "48", "64", true]]);
        assert.deepEqual(row("dnipro", "kratos-secret-cipher"), [["special", "update", "false", "true", true]]);
        assert.match(toMarkdown(both), /\| ecdsaCurve \| update \(forces replacement\) \| "P256" \| "P384" \|/);
    });

    it("flags protection removed from the signing key or a key-keeper password as critical, also on a `same` step", () => {
        const processing = byName(both, "key-keeper-processing");
        assert.equal(processing.op, "same");
        assert.deepEqual([processing.protectBefore, processing.protectAfter], [true, false]);
        assert.deepEqual(processing.flags.map((f) => [f.kind, f.severity]), [["unprotected", "critical"]]);
        assert.ok(kinds(byName(both, "jwt-signing-key-a-keypair")).includes("unprotected"));
        assert.match(toMarkdown(both), /### same RandomPassword key-keeper-processing \(protection removed\)/);
    });

    it("flags protection removed from any other resource as medium, whatever else the change does", () => {
        const urn = urnOf("demo", "dcm:integration:Kratos$kubernetes:core/v1:ConfigMap", "kratos-config");
        const state = (a: string, protect: boolean) => ({ urn, custom: true, type: "kubernetes:core/v1:ConfigMap", protect, inputs: { data: { a } } });
        const report = auditPreviews([previewOf({
            steps: [{ op: "update", urn, oldState: state("1", true), newState: state("2", false), detailedDiff: { "data.a": { kind: "update", inputDiff: false } } }],
        })], { policies: false });
        assert.deepEqual(byName(report, "kratos-config").flags.map((f) => [f.kind, f.severity]), [["unprotected", "medium"]]);
        assert.match(byName(report, "kratos-config").flags[0].message, /Protection removed in the same change that changes this resource/);
    });

    it("says Pulumi refuses a protected replacement only when the resource stays protected", () => {
        const identification = byName(both, "key-keeper-identification");
        assert.ok(!identification.flags.some((f) => /refuses/.test(f.message)), "protection removed in the same change: Pulumi goes ahead");
        const urn = urnOf("demo", "dcm:integration:KeyKeeperSecrets$random:index/randomPassword:RandomPassword", "key-keeper-identification");
        const state = (length: number) => ({ urn, custom: true, type: "random:index/randomPassword:RandomPassword", protect: true, inputs: { length }, outputs: { length, result: "[secret]" } });
        const stillProtected = auditPreviews([previewOf({
            steps: [{ op: "replace", urn, oldState: state(48), newState: state(64), replaceReasons: ["length"], detailedDiff: { length: { kind: "update-replace", inputDiff: false } } }],
        })], { policies: false });
        assert.match(byName(stillProtected, "key-keeper-identification").flags.map((f) => f.message).join(), /Pulumi refuses until someone removes the protection/);
    });

    it("says what regenerating a Kratos secret breaks", () => {
        const cipher = byName(both, "kratos-secret-cipher");
        assert.equal(cipher.flags[0].kind, "kratos-secret");
        assert.match(cipher.flags[0].message, /every value Kratos encrypted with it .* can no longer be decrypted/);
        assert.doesNotMatch(cipher.flags[0].message, /\[secret\]/, "the flag's own words are not masked");
        assert.match(byName(both, "kratos-secret-cookie").flags[0].message, /every employee is logged out/);
    });

    it("flags a changed cert-manager issuer annotation and renamed hosts by value", () => {
        // Routing gateway-api: the bank's hosts are its ListenerSet's listeners, annotated for cert-manager.
        const issuer = inBank(both, "demo", "hosts-listenerset-bank-hosts");
        assert.deepEqual(kinds(issuer), ["host-tls"]);
        assert.match(issuer.flags[0].message, /cert-manager\.io\/cluster-issuer changes from "letsencrypt-staging" to "letsencrypt-prod"/);
        const api = inBank(both, "dnipro", "hosts-listenerset-bank-hosts");
        assert.match(api.flags[0].message, /hosts added api-dnipro-integrate\.dcm\.example\.com removed dcm-api-dnipro-integrate\.dcm\.example\.com/);
        for (const route of ["hosts-httproute-api", "hosts-httproute-http-redirect"]) {
            assert.match(inBank(both, "dnipro", route).flags.map((f) => f.message).join(), /HTTPRoute .* changed: what a public host serves changes \(spec\.hostnames\[\d\]\)/, route);
        }
    });

    it("flags image changes and widened access; folds replacement steps into one change", () => {
        assert.deepEqual(kinds(byName(both, "frontend-deployment")), ["image"]);
        assert.deepEqual(kinds(byName(both, "network-frontend-from-ingress")), ["access-widening"]);
        assert.equal(bank(both, "dnipro").changes.filter((c) => c.name === "kratos-secret-cipher").length, 1, "create-replacement + replace + delete-replaced = one change");
    });

    it("shows a field inside a blinded value as the mask, never as an empty cell, and says what the value is made from", () => {
        // The real preview blinds the signer's Secret values whole; the new private key makes them change.
        const signer = byName(both, "jwt-signer");
        assert.deepEqual(signer.fields.map((f) => [f.path, f.kind, f.old, f.new, f.secret, f.from]), [["stringData", "update", "[secret]", "[secret]", true, ["replaced jwt-signing-key-a-keypair"]]]);
        assert.doesNotMatch(toMarkdown(both), /\| stringData[^|]*\| update \(secret\)[^|]*\|\s*\|/);
        // A value known only after apply names its source too: the JWKS of the replaced key.
        assert.deepEqual(inBank(both, "demo", "jwt-jwks").fields[0].from, ["replaced jwt-signing-key-a-keypair"]);
        // A value the report shows needs no cause: a plain env value is not blamed on the Secrets its pod spec names.
        assert.ok(byName(both, "kratos-courier").fields.every((f) => f.from === undefined));
    });

    it("shows a Secret's values changing as one secret update, naming the password it is made from", () => {
        // The real preview: the provider turned the old stringData into `data`, the new values are not known yet, so it
        // reports `data` deleted and `stringData` added, each blinded whole. The audit shows one update of the values,
        // never a deletion, and which of the passwords feeding them this change replaces.
        const step = fixture("demo.json").steps.find((s) => s.name === "key-keeper-users")!;
        assert.deepEqual(Object.entries(step.detailedDiff ?? {}).map(([p, d]) => [p, d.kind]), [["data", "delete"], ["stringData", "add"]], "what the CLI reports");
        assert.ok(step.oldState?.outputs && !("stringData" in step.oldState.outputs) && "data" in step.oldState.outputs, "the fixture's live Secret has data, no stringData");
        const users = inBank(both, "demo", "key-keeper-users");
        assert.deepEqual(users.fields.map((f) => [f.path, f.kind, f.old, f.new, f.secret, f.from]),
            [["stringData", "update", "[secret]", "[secret]", true, ["replaced key-keeper-identification"]]], "processing's password stays: not named");
        assert.match(toMarkdown(both), /\| stringData \| update \(secret\) \(from replaced key-keeper-identification\) \| \\\[secret\\\] \| \\\[secret\\\] \|/);
        assert.deepEqual(inBank(both, "dnipro", "kratos-secrets").fields.map((f) => [f.path, f.kind, f.from]), [["stringData", "update", ["replaced kratos-secret-cipher"]]]);
        // Per key where a preview has it (a Secret whose values are known, as the provider can report them):
        // the old value comes from the old inputs, since a live Secret's outputs hold `data`, never `stringData`.
        // The same with the values in plain text (nothing marked secret): never shown, nor their base64.
        const [oldValue, newValue] = ["CANARY-old-keeper-password", "CANARY-new-keeper-password"];
        const urn = urnOf("demo", "dcm:integration:KeyKeeperSecrets$kubernetes:core/v1:Secret", "key-keeper-users");
        const meta = { name: "key-keeper-users", namespace: "bank-demo-integrate" };
        const state = (password: string) => ({
            urn, custom: true, type: "kubernetes:core/v1:Secret",
            inputs: { kind: "Secret", metadata: meta, stringData: { "identification.password": password } },
            outputs: { kind: "Secret", metadata: meta, data: { "identification.password": Buffer.from(password).toString("base64") } },
        });
        const report = auditPreviews([previewOf({
            steps: [{ op: "update", urn, oldState: state(oldValue), newState: state(newValue), detailedDiff: { 'stringData["identification.password"]': { kind: "update", inputDiff: false } } }],
            changeSummary: { update: 1 },
        })], { policies: false });
        const plain = byName(report, "key-keeper-users").fields[0];
        assert.deepEqual([plain.kind, plain.old, plain.new, plain.secret], ["update", "[secret]", "[secret]", true]);
        for (const text of texts(report)) {
            for (const v of [oldValue, newValue]) for (const form of [v, Buffer.from(v).toString("base64")]) assert.ok(!text.includes(form), `${form} leaked`);
        }
        assert.match(toMarkdown(report), /\| stringData\\\["identification\.password"\\\] \| update \(secret\) \| \\\[secret\\\] \| \\\[secret\\\] \|/);
    });

    it("shows values Pulumi cannot know yet as known after apply", () => {
        const jwks = byName(both, "jwt-jwks").fields[0];
        assert.equal(jwks.new, KNOWN_AFTER_APPLY);
        for (const text of [toMarkdown(both), toHtml(both)]) assert.ok(!text.includes("04da6b54-80e4-46f7-96ec-b56ff0331ba9"));
    });

    it("keeps URNs, types and names whole in diagnostics and changes; masks only values", () => {
        const d = both.diagnostics.find((x) => x.bank === "dnipro")!;
        const cipherUrn = urnOf("dnipro", "dcm:integration:Kratos$random:index/randomPassword:RandomPassword", "kratos-secret-cipher");
        assert.equal(d.urn, cipherUrn);
        assert.ok(d.message.includes(cipherUrn), d.message);
        assert.match(toMarkdown(both), /randomPassword:RandomPassword::kratos-secret-cipher is replaced/);
        const masker = auditPreviews([previewOf({ diagnostics: [{ urn: cipherUrn, message: `error: ${cipherUrn}: password=hunter2hunter2 rejected\n`, severity: "error" }] })]);
        assert.match(masker.diagnostics[0].message, /RandomPassword::kratos-secret-cipher: password=\[secret\] rejected/);
    });

    it("counts operations from Pulumi's changeSummary, not from the steps it chose to show", () => {
        for (const name of ["demo.json", "dnipro.json"]) {
            const d = fixture(name);
            const counts = bank(both, d.bank!).counts;
            assert.equal(counts.same, d.changeSummary!.same);
            assert.equal(counts.replace, d.changeSummary!.replace);
        }
        const m = /\| demo \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|/.exec(toMarkdown(both));
        assert.equal(Number(m?.[5]), fixture("demo.json").changeSummary!.same);
    });

    it("warns when two previews are of the same bank", () => {
        const twice = auditPreviews([fixture("demo.json"), { ...fixture("demo.json"), file: "demo-again.json" }]);
        assert.match(twice.warnings.join(), /2 previews of bank demo .*demo-again\.json.*merged/);
        assert.match(toMarkdown(twice).split("## Summary")[0], /\*\*Warning:\*\* 2 previews of bank demo/);
        assert.deepEqual(both.warnings, []);
    });

    it("puts a failed preview first, as a failure, whether it has steps or not", () => {
        for (const name of ["demo-failed-program.json", "demo-failed-after-root.json"]) {
            const report = reportOf(name);
            assert.equal(report.failures.length, 1, name);
            assert.equal(report.failures[0].bank, "demo");
            assert.match(report.failures[0].errors[0].message, /error: /);
            for (const text of [toMarkdown(report), toHtml(report)]) {
                const banner = text.indexOf("PREVIEW FAILED");
                assert.ok(banner > 0 && banner < text.indexOf("Summary"), `${name}: the failure comes before the summary`);
            }
            assert.doesNotMatch(toMarkdown(report), /## Bank demo\n\nNo changes\./, "never a bare 'No changes' for a failed preview");
        }
        // The program's own message (its error diagnostic has no URN), as Pulumi counted: the root stack only.
        const program = toMarkdown(reportOf("demo-failed-program.json"));
        assert.match(program.split("## Summary")[0], /keyKeeperUrl must use https; got 'http'/);
        assert.match(program, /\| Bank \| same \| Flags \|\n\|---\|---:\|---\|\n\| demo \| 1 \| failed \|/);
        const afterRoot = reportOf("demo-failed-after-root.json");
        assert.match(afterRoot.failures[0].errors[0].message, /the program fails at kratos-config/);
        for (const text of texts(afterRoot)) assert.ok(!text.includes("\u001b"), "no terminal escape in a report");
        const same = fixture("demo-failed-after-root.json").changeSummary!.same!;
        assert.ok(same > 1, "resources registered before the failure are counted");
        assert.match(toMarkdown(afterRoot), new RegExp(`\\| Bank \\| same \\| Flags \\|\\n\\|---\\|---:\\|---\\|\\n\\| demo \\| ${same} \\| failed \\|`));
    });

    it("shows a failed render of --render-diff first too, as the program's failure", () => {
        const report = assembleReport({ title: "t", source: "s", changes: [], diagnostics: [], policyRan: false, banks: ["demo"],
            failures: [{ bank: "demo", source: "render", file: "the render at origin/main", errors: [{ message: "Invalid configuration for stack 'demo'" }] }] });
        const md = toMarkdown(report);
        assert.ok(md.indexOf("**RENDER FAILED** for bank demo (the render at origin/main)") < md.indexOf("## Summary"));
        assert.match(toHtml(report), /<strong>RENDER FAILED<\/strong> for bank demo/);
        assert.match(toSarif(report), /"ruleId": "audit\/render-failed"/);
        assert.match(toSarif(report), /"uri": "stacks\/Pulumi\.demo\.yaml"/);
        const odd = assembleReport({ title: "t", source: "s", changes: [], diagnostics: [], policyRan: false,
            failures: [{ bank: "../../etc/x", source: "preview", file: "x.json", errors: [{ message: "error: boom" }] }] });
        assert.match(toSarif(odd), /"uri": "Pulumi\.yaml"/, "a bank name that is no alias never becomes a path");
    });

    it("runs the policy pack over each new state and shows violations beside the change", () => {
        assert.ok(byName(both, "jwt-signing-key-a-keypair").policy.some((p) => p.policy === "keys-protected"), "the unprotected new signing key violates keys-protected");
        assert.ok(byName(both, "frontend-deployment").policy.some((p) => p.policy === "secrets-env-literals"));
        assert.deepEqual(byName(both, "jwt-signing-key-b-keypair").policy, [], "no policy over a resource that goes away");
    });

    it("ends with a sign-off block for the reviewer, the decision and the date", () => {
        const md = toMarkdown(both);
        assert.match(md, /## Sign-off\n\n\| Reviewer \| Decision \(approve \/ reject\) \| Date \| Notes \|\n\|---\|---\|---\|---\|\n\| \| \| \| \|\n$/);
        assert.match(toHtml(both), /<h2 id="sign-off">Sign-off<\/h2><table class="signoff"><tr><th>Reviewer<\/th><th>Decision \(approve \/ reject\)<\/th><th>Date<\/th>/);
    });

    it("writes HTML as one self-contained page, escaping every value", () => {
        const evil = "<script>alert(1)</script>";
        const doc = parsePreview(JSON.stringify({
            steps: [{ op: "create", urn: `urn:pulumi:demo::p::kubernetes:core/v1:ConfigMap::x${evil}`, newState: { urn: "u", type: "kubernetes:core/v1:ConfigMap", inputs: { data: { note: `"><img src=x onerror=alert(1)> | ${evil}` } } } }],
        }), "evil.json");
        const report = auditPreviews([doc]);
        const html = toHtml(report);
        assert.ok(!html.includes("<script"), "no script element");
        assert.ok(!/<img/i.test(html));
        assert.ok(!/<[^>]*\bsrc\s*=|url\(|@import|<link/i.test(html), "nothing loads");
        assert.match(html, /&lt;script&gt;/);
        assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
        const md = toMarkdown(report);
        assert.ok(!md.includes("<script") && !md.includes("<img"));
        assert.ok(md.split("\n").filter((l) => l.includes("data.note")).every((l) => l.split(/(?<!\\)\|/).length === 6), "a | in a value does not break the table");
    });

    it("summarises every bank and operation in both formats, as Pulumi counted them", () => {
        const md = toMarkdown(both);
        assert.match(md, /\| Bank \| replace \| delete \| create \| update \| same \| Flags \|/);
        // The counts of each bank's changeSummary (the demo preview deletes and creates nothing: 0), and its flags.
        const row = (bank: string) => ["replace", "delete", "create", "update", "same"].map((op) => fixture(`${bank}.json`).changeSummary![op as "same"] ?? 0);
        const [r, d, c, u, same] = row("demo");
        assert.ok(r >= 3 && u >= 6, "demo replaces the key, a password and the cookie secret, and updates what follows");
        assert.match(md, new RegExp(`\\| demo \\| ${r} \\| ${d} \\| ${c} \\| ${u} \\| ${same} \\| \\d+ critical, \\d+ high, \\d+ medium \\|`));
        const dn = row("dnipro");
        assert.ok(dn.slice(0, 4).every((n) => n >= 1), "dnipro replaces, deletes, creates and updates");
        assert.match(toHtml(both), new RegExp(`<td><a href="#bank--dnipro">dnipro</a></td>${dn.map((n) => `<td>${n}</td>`).join("")}`));
    });
});
