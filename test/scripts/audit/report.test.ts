/** Reports from preview fixtures: flags highest first, field changes, policy results, secrets never shown. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { auditPreviews, stackFileSecretKeys } from "../../../scripts/lib/audit/from-preview";
import { toHtml } from "../../../scripts/lib/audit/html";
import { toMarkdown } from "../../../scripts/lib/audit/markdown";
import { parsePreview } from "../../../scripts/lib/audit/preview";
import { CANARY, fixture, reportOf } from "./helpers";

const both = reportOf("demo-blinded.json", "dnipro-show-secrets.json");

describe("audit report from a preview", () => {
    it("never lets a planted secret reach the report, in Markdown or HTML, with or without --show-secrets", () => {
        for (const name of ["demo-blinded.json", "dnipro-show-secrets.json"]) {
            const report = reportOf(name);
            for (const text of [toMarkdown(report), toHtml(report)]) {
                assert.ok(!text.includes(CANARY), `${name}: a canary leaked: ${text.slice(Math.max(0, text.indexOf(CANARY) - 200), text.indexOf(CANARY) + 50)}`);
                assert.ok(!/PRIVATE KEY/.test(text), `${name}: a private key block leaked`);
            }
        }
        // kratosSmtpUri is secret by dnipro's stack file only: its value in a plain env var is masked by that knowledge.
        assert.deepEqual(stackFileSecretKeys("dnipro").filter((k) => k.endsWith("kratosSmtpUri")), ["dcm-integration:kratosSmtpUri"]);
        // The plain fixture really holds the canaries in the places the masking must know about.
        const raw = JSON.stringify(fixture("dnipro-show-secrets.json"));
        for (const where of ["CANARY-pw-identification", "CANARY-old-result", "CANARY-config-token", "CANARY-admin-pw-by-name", "CANARY-dsn-pass", "NEWKEYCANARY", "CANARY-smtp-uri"]) {
            assert.ok(raw.includes(where), `fixture holds ${where}`);
        }
    });

    it("flags the signing key replacement highest in each bank, with the action the bank must take", () => {
        for (const bank of both.banks) {
            const first = bank.changes[0];
            assert.equal(first.type, "tls:index/privateKey:PrivateKey");
            assert.equal(first.op, "replace");
            assert.equal(first.flags[0].kind, "signing-key");
            assert.equal(first.flags[0].severity, "critical");
            assert.match(first.flags[0].message, /bank must receive the new public key/);
            const keeper = bank.changes.find((c) => c.type === "random:index/randomPassword:RandomPassword");
            assert.equal(keeper?.flags[0].kind, "key-keeper-secrets");
            assert.match(keeper!.flags[0].message, /re-register/);
            // Order: flag rank never goes up along the list.
            const rank = (k?: string) => (k ? ["signing-key", "key-keeper-secrets", "host-tls", "image", "access-widening", "protected"].indexOf(k) : 99);
            const ranks = bank.changes.map((c) => rank(c.flags[0]?.kind));
            assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
        }
    });

    it("flags host/TLS, image, widened access and protected resources; folds replacement steps into one", () => {
        const demo = both.banks.find((b) => b.bank === "demo")!;
        const kinds = (object: string) => demo.changes.find((c) => c.object === object)?.flags.map((f) => f.kind);
        assert.deepEqual(kinds("Ingress/bank-demo-integrate/frontend"), ["host-tls"]);
        assert.deepEqual(kinds("Deployment/bank-demo-integrate/frontend"), ["image"]);
        assert.deepEqual(kinds("NetworkPolicy/bank-demo-integrate/allow-frontend"), ["access-widening"]);
        assert.deepEqual(kinds("Secret/bank-demo-integrate/jwt-signing-key"), ["signing-key", "protected"]);
        assert.deepEqual(kinds("ConfigMap/bank-demo-integrate/legacy-settings"), []);
        assert.deepEqual(demo.counts, { same: 2, replace: 2, update: 4, create: 1, delete: 1 });
        assert.equal(demo.changes.filter((c) => c.urn.endsWith("jwt-signing-key-a-keypair")).length, 1, "create-replacement + replace + delete-replaced = one change");
    });

    it("shows field-level old and new values, secret fields masked, replacement causes marked", () => {
        const demo = both.banks.find((b) => b.bank === "demo")!;
        const key = demo.changes[0];
        assert.deepEqual(key.fields, [{ path: "ecdsaCurve", kind: "update", old: '"P256"', new: '"P384"', replace: true }]);
        const image = demo.changes.find((c) => c.object === "Deployment/bank-demo-integrate/frontend")!.fields.find((f) => f.path.endsWith(".image"));
        assert.equal(image?.old, '"registry.dcm.example.com/frontend:1.4.2"');
        assert.equal(image?.new, '"registry.dcm.example.com/frontend:1.5.0"');
        const dnipro = both.banks.find((b) => b.bank === "dnipro")!;
        const keeper = dnipro.changes.find((c) => c.object === "Secret/bank-dnipro-integrate/key-keeper-users")!.fields[0];
        assert.equal(keeper.secret, true);
        assert.equal(keeper.new, '{"identification.password":"[secret]","identification.username":"[secret]"}', "keys kept, values masked");
    });

    it("runs the policy pack over each new state and shows violations beside the change", () => {
        const demo = both.banks.find((b) => b.bank === "demo")!;
        const ingress = demo.changes.find((c) => c.object === "Ingress/bank-demo-integrate/frontend")!;
        assert.ok(ingress.policy.some((p) => p.policy === "ingress-host-names"), JSON.stringify(ingress.policy));
        const key = demo.changes[0];
        assert.ok(key.policy.some((p) => p.policy === "keys-protected"), "the unprotected new signing key violates keys-protected");
        const deleted = demo.changes.find((c) => c.op === "delete")!;
        assert.deepEqual(deleted.policy, [], "no policy over a resource that goes away");
        assert.match(toMarkdown(both), /Policy ingress-host-names \(mandatory\)/);
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
        assert.ok(!/<[^>]*\b(src|href)\s*=|url\(|@import/i.test(html), "no external resource");
        assert.match(html, /&lt;script&gt;/);
        assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
        const md = toMarkdown(report);
        assert.ok(!md.includes("<script") && !md.includes("<img"));
        assert.ok(md.split("\n").filter((l) => l.includes("data.note")).every((l) => l.split(/(?<!\\)\|/).length === 6), "a | in a value does not break the table");
    });

    it("summarises every bank and operation in both formats", () => {
        const md = toMarkdown(both);
        assert.match(md, /\| Bank \| replace \| delete \| create \| update \| same \| Flags \|/);
        assert.match(md, /\| demo \| 2 \| 1 \| 1 \| 4 \| 2 \| 4 critical, 3 high, 3 medium \|/);
        assert.match(toHtml(both), /<td>dnipro<\/td><td>2<\/td><td>1<\/td><td>1<\/td><td>4<\/td><td>2<\/td>/);
    });
});
