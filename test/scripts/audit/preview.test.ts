/** Reading `pulumi preview --json`: the real format is accepted, a malformed file is named precisely. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuditInputError, parsePreview, parseUrn } from "../../../scripts/lib/audit/preview";
import { fixture } from "./helpers";

const doc = (o: unknown) => JSON.stringify(o);
const step = (extra: Record<string, unknown> = {}) => ({ op: "create", urn: "urn:pulumi:demo::p::kubernetes:core/v1:ConfigMap::c", ...extra });

describe("preview parsing", () => {
    it("reads both fixtures: every step, its bank from the URN, states, diffs, summary and diagnostics", () => {
        for (const [name, bank] of [["demo-blinded.json", "demo"], ["dnipro-show-secrets.json", "dnipro"]]) {
            const d = fixture(name);
            const ops = new Set(d.steps.map((s) => s.op));
            for (const op of ["same", "create", "update", "delete", "create-replacement", "replace", "delete-replaced"]) assert.ok(ops.has(op as never), `${name} has ${op}`);
            assert.ok(d.steps.every((s) => s.bank === bank));
            const key = d.steps.find((s) => s.op === "replace" && s.type === "tls:index/privateKey:PrivateKey");
            assert.deepEqual(key?.replaceReasons, ["ecdsaCurve"]);
            assert.equal(key?.detailedDiff?.ecdsaCurve.kind, "update-replace");
            assert.deepEqual(key?.oldState?.additionalSecretOutputs, ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"]);
            assert.equal(d.changeSummary.replace, 2);
            assert.equal(d.diagnostics[0].severity, "warning");
        }
    });

    it("parses URNs with parent types", () => {
        assert.deepEqual(parseUrn("urn:pulumi:dnipro::dcm::pulumi:pulumi:Stack$dcm:integration:JwtKeySet$kubernetes:core/v1:Secret::jwt-signer"),
            { stack: "dnipro", project: "dcm", type: "kubernetes:core/v1:Secret", name: "jwt-signer" });
        assert.equal(parseUrn("arn:aws:x"), undefined);
    });

    it("rejects what is not preview JSON, naming the file and the rule", () => {
        assert.throws(() => parsePreview("{not json", "p.json"), (e: Error) => e instanceof AuditInputError && /p\.json is not valid JSON/.test(e.message));
        assert.throws(() => parsePreview("[1,2]", "p.json"), /must be a JSON object with `steps` .*got an array/);
        assert.throws(() => parsePreview(doc({ resources: [] }), "p.json"), /neither `steps` nor `changeSummary`/);
    });

    it("lists every malformed field with its path", () => {
        const bad = doc({
            steps: [
                step({ op: "explode" }),
                step({ urn: "not-a-urn" }),
                step({ newState: { type: 7, urn: "u" } }),
                step({ detailedDiff: { "data.x": { kind: "sideways" } } }),
                step({ replaceReasons: "data" }),
            ],
            changeSummary: { create: -1 },
        });
        assert.throws(() => parsePreview(bad, "bad.json"), (e: Error) => {
            assert.match(e.message, /bad\.json is not valid `pulumi preview --json` output \(6 problems\)/);
            assert.match(e.message, /steps\[0\]\.op must be one of same, create.*\('explode' is not\)/);
            assert.match(e.message, /steps\[1\]\.urn must be a Pulumi URN/);
            assert.match(e.message, /steps\[2\]\.newState\.type must be a type token, got a number/);
            assert.match(e.message, /steps\[3\]\.detailedDiff\["data\.x"\]\.kind must be one of add/);
            assert.match(e.message, /steps\[4\]\.replaceReasons must be an array of property names, got a string/);
            assert.match(e.message, /changeSummary\.create must be a non-negative integer/);
            return true;
        });
    });

    it("accepts a preview with no changes (no steps, only a summary)", () => {
        const d = parsePreview(doc({ changeSummary: { same: 3 } }), "empty.json");
        assert.equal(d.steps.length, 0);
        assert.equal(d.changeSummary.same, 3);
    });
});
