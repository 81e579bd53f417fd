/** Reading `pulumi preview --json`: the real format is accepted, a malformed file is named precisely. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
    AuditInputError, MAX_DEPTH, parsePreview, parseUrn, PULUMI_SECRET_SIG, PULUMI_SIG_KEY, UNKNOWN_VALUE,
} from "../../../scripts/lib/audit/preview";
import { FIXTURES, fixture, rootUrn, urnOf } from "./helpers";

const doc = (o: unknown) => JSON.stringify(o);
const step = (extra: Record<string, unknown> = {}) => ({ op: "create", urn: "urn:pulumi:demo::p::kubernetes:core/v1:ConfigMap::c", ...extra });

describe("preview parsing", () => {
    it("reads the fixtures as Pulumi writes them: the root stack step, real URNs, blinded secrets, unknowns, the summary", () => {
        for (const [name, bank] of [["demo.json", "demo"], ["dnipro.json", "dnipro"]]) {
            const d = fixture(name);
            assert.equal(d.bank, bank);
            assert.equal(d.steps[0].urn, rootUrn(bank), "Pulumi always shows the root stack's step first");
            assert.ok(d.steps.every((s) => s.bank === bank));
            // The engine leaves the root stack's type out of its children's URNs.
            assert.ok(d.steps.slice(1).every((s) => !s.urn.includes("pulumi:pulumi:Stack")), "no root stack inside a child's URN");
            // The real CLI names why a random or tls resource is replaced, and gives no detailed diff of it.
            const key = d.steps.find((s) => s.op === "replace");
            assert.ok(key && key.replaceReasons.length > 0, "a replacement names its reasons");
            assert.deepEqual(Object.keys(key.detailedDiff ?? {}), [], "no detailed diff: the audit reads the old and new inputs");
            assert.ok(d.changeSummary && (d.changeSummary.same ?? 0) > d.steps.filter((s) => s.op === "same").length, "same resources are counted, not shown");
            const raw = fs.readFileSync(path.join(FIXTURES, name), "utf8");
            assert.ok(raw.includes('"[secret]"'), "secrets are blinded as Pulumi's JSON writer blinds them");
        }
        const demo = fixture("demo.json");
        assert.ok(JSON.stringify(demo.steps).includes(UNKNOWN_VALUE), "a preview holds values known after apply");
        // What a Secret's values are made from: all the preview says of values it blinds whole.
        const users = demo.steps.find((s) => s.name === "key-keeper-users")!;
        assert.equal(users.newState?.inputs.stringData, "[secret]", "a Secret's values are blinded whole, not per key");
        assert.deepEqual(users.newState?.propertyDependencies.stringData.map((u) => u.split("::").pop()).sort(), ["key-keeper-identification", "key-keeper-processing"]);
        const ops = new Set(fixture("dnipro.json").steps.map((s) => s.op));
        for (const op of ["same", "create", "update", "delete", "create-replacement", "replace", "delete-replaced"]) assert.ok(ops.has(op as never), `dnipro.json has ${op}`);
    });

    it("hashes the bytes it read (the evidence names each input by SHA-256)", () => {
        const bytes = fs.readFileSync(path.join(FIXTURES, "demo.json"));
        assert.equal(fixture("demo.json").sha256, crypto.createHash("sha256").update(bytes).digest("hex"));
    });

    it("turns Pulumi's secret sentinel (state files, stack exports) into a secret, whatever form its value takes", () => {
        const sentinel = (rest: Record<string, unknown>) => ({ [PULUMI_SIG_KEY]: PULUMI_SECRET_SIG, ...rest });
        const d = parsePreview(doc({
            steps: [step({
                newState: {
                    urn: "u", type: "kubernetes:core/v1:ConfigMap",
                    inputs: {
                        a: sentinel({ value: "plain-value" }),
                        b: sentinel({ plaintext: JSON.stringify({ nested: "plain-text" }) }),
                        c: sentinel({ ciphertext: "v1:abc" }),
                        d: [sentinel({ value: 7 })],
                    },
                },
            })],
        }), "s.json");
        assert.deepEqual(d.steps[0].newState?.inputs, {
            a: { $secret: "plain-value" },
            b: { $secret: { nested: "plain-text" } },
            c: { $secret: "[secret]" },
            d: [{ $secret: 7 }],
        });
    });

    it("parses URNs with parent types", () => {
        assert.deepEqual(parseUrn(urnOf("dnipro", "dcm:integration:JwtKeySet$kubernetes:core/v1:Secret", "jwt-signer")),
            { stack: "dnipro", project: "dcm-integration", type: "kubernetes:core/v1:Secret", name: "jwt-signer" });
        assert.equal(parseUrn("arn:aws:x"), undefined);
    });

    it("rejects what is not preview JSON, naming the file and the rule", () => {
        assert.throws(() => parsePreview("{not json", "p.json"), (e: Error) => e instanceof AuditInputError && /p\.json is not valid JSON/.test(e.message));
        assert.throws(() => parsePreview("[1,2]", "p.json"), /must be a JSON object with `steps` .*got an array/);
        assert.throws(() => parsePreview(doc({ resources: [] }), "p.json"), /none of `steps`, `changeSummary` or `diagnostics`/);
    });

    it("reads a failed preview (the root step and an error with no URN, or diagnostics only) as failed, naming its bank", () => {
        // A program that stops before its first resource: the CLI still shows the root stack's `same` step and counts it.
        const program = fixture("demo-failed-program.json");
        assert.equal(program.failed, true);
        assert.equal(program.bank, "demo");
        assert.deepEqual(program.steps.map((s) => [s.op, s.urn]), [["same", rootUrn("demo")]]);
        assert.deepEqual(program.changeSummary, { same: 1 });
        const error = program.diagnostics.find((d) => d.severity === "error")!;
        assert.equal(error.urn, undefined, "the program's error names no resource");
        assert.match(error.message, /keyKeeperUrl must use https; got 'http'/);
        const afterRoot = fixture("demo-failed-after-root.json");
        assert.equal(afterRoot.failed, true);
        // The language host colours the exception it prints; the JSON keeps the escapes, the audit drops them.
        assert.ok(fs.readFileSync(path.join(FIXTURES, "demo-failed-after-root.json"), "utf8").includes("\\u001b["), "the captured file holds terminal escapes");
        assert.ok(afterRoot.diagnostics.every((d) => !d.message.includes("\u001b")), "no terminal escape in a message read");
        assert.match(afterRoot.diagnostics[0].message, /the program fails at kratos-config/);
        const diagnosticsOnly = parsePreview(doc({ diagnostics: [{ urn: rootUrn("kyiv"), message: "error: boom\n", severity: "error" }] }), "d.json");
        assert.deepEqual([diagnosticsOnly.failed, diagnosticsOnly.bank, diagnosticsOnly.steps.length], [true, "kyiv", 0]);
        assert.equal(fixture("demo.json").failed, false, "warnings are no failure");
        const byConfig = parsePreview(doc({ config: { "dcm-integration:alias": "kyiv" }, diagnostics: [{ message: "error: boom\n", severity: "error" }] }), "k.json");
        assert.equal(byConfig.bank, "kyiv", "with no URN anywhere, the config's alias names the bank");
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
            config: { "dcm-integration:signingKeys": [{ slot: "a" }] },
            changeSummary: { create: -1, explode: 1 },
        });
        assert.throws(() => parsePreview(bad, "bad.json"), (e: Error) => {
            assert.match(e.message, /bad\.json is not valid `pulumi preview --json` output \(8 problems\)/);
            assert.match(e.message, /steps\[0\]\.op must be one of same, create.*\('explode' is not\)/);
            assert.match(e.message, /steps\[1\]\.urn must be a Pulumi URN/);
            assert.match(e.message, /steps\[2\]\.newState\.type must be a type token, got a number/);
            assert.match(e.message, /steps\[3\]\.detailedDiff\["data\.x"\]\.kind must be one of add/);
            assert.match(e.message, /steps\[4\]\.replaceReasons must be an array of property names, got a string/);
            assert.match(e.message, /config\["dcm-integration:signingKeys"\] must be a string, got an array/);
            assert.match(e.message, /changeSummary\.create must be a non-negative integer/);
            assert.match(e.message, /changeSummary\["explode"\] must be a step operation/);
            return true;
        });
    });

    it("reads propertyDependencies as URN lists per property, and names a malformed one", () => {
        const state = (deps: unknown) => ({ urn: "u", type: "kubernetes:core/v1:Secret", propertyDependencies: deps });
        const ok = parsePreview(doc({ steps: [step({ newState: state({ stringData: ["urn:a", "urn:b"], kind: [], metadata: null }) })] }), "p.json");
        assert.deepEqual(ok.steps[0].newState?.propertyDependencies, { stringData: ["urn:a", "urn:b"], kind: [] });
        assert.deepEqual(parsePreview(doc({ steps: [step({ newState: state(undefined) })] }), "p.json").steps[0].newState?.propertyDependencies, {});
        assert.throws(() => parsePreview(doc({ steps: [step({ newState: state({ data: "urn:a" }) }), step({ newState: state([]) })] }), "p.json"),
            /steps\[0\]\.newState\.propertyDependencies\["data"\] must be an array of URNs, got a string[\s\S]*steps\[1\]\.newState\.propertyDependencies must be an object of URN arrays, got an array/);
    });

    it("refuses property values nested deeper than it reads, without overflowing its stack", () => {
        const text = `{"steps":[{"op":"create","urn":"urn:pulumi:demo::p::kubernetes:core/v1:ConfigMap::c","newState":{"urn":"u","type":"kubernetes:core/v1:ConfigMap","inputs":${"{\"a\":".repeat(50_000)}"leaf"${"}".repeat(50_000)}}}]}`;
        assert.throws(() => parsePreview(text, "deep.json"), new RegExp(`steps\\[0\\]\\.newState\\.inputs must be nested at most ${MAX_DEPTH} levels deep`));
    });

    it("accepts a preview with no changes (no steps, only a summary)", () => {
        const d = parsePreview(doc({ changeSummary: { same: 3 } }), "empty.json");
        assert.equal(d.steps.length, 0);
        assert.equal(d.changeSummary?.same, 3);
        assert.equal(d.failed, false);
    });
});
