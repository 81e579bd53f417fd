/**
 * New and retired banks, JWKS key sets, the HTML table of contents and SARIF locations: properties over the fixtures'
 * real resources and generated inputs, no renders.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { buildChange } from "../../../scripts/lib/audit/change";
import { changedConfigKeys } from "../../../scripts/lib/audit/config-lines";
import { toSarif } from "../../../scripts/lib/audit/data";
import { diffValues, leaves } from "../../../scripts/lib/audit/diff";
import { flagsFor } from "../../../scripts/lib/audit/flags";
import { Anchors, toHtml } from "../../../scripts/lib/audit/html";
import { bankOverview } from "../../../scripts/lib/audit/lifecycle";
import { toMarkdown } from "../../../scripts/lib/audit/markdown";
import { Masker } from "../../../scripts/lib/audit/masker";
import type { AuditReport, ResourceChange } from "../../../scripts/lib/audit/model";
import { assembleReport } from "../../../scripts/lib/audit/report";
import { unwrapSecrets } from "../../../domain/secret-values";
import { fixture, reportOf } from "./helpers";

/** The kinds that say an existing key or credential stops working: never true of a creation. */
const REPLACEMENT_KINDS = ["signing-key", "key-keeper-secrets", "kratos-secret", "secret-regenerated", "unprotected"];

/**
 * Every resource a fixture shows, as the bank had it deployed (its old state; the new one for a creation): real URNs,
 * types and values, as plain properties. The old state, since a real preview knows a replaced key's kid and the
 * stack's outputs only after apply.
 */
function resourcesOf(name: string, bank: string) {
    return fixture(name).steps.filter((s) => s.oldState ?? s.newState).map((s) => {
        const state = (s.oldState ?? s.newState)!;
        return {
            urn: s.urn.replace(/^urn:pulumi:[^:]+::/, `urn:pulumi:${bank}::`), type: s.type, name: s.name, protect: Boolean(state.protect),
            props: unwrapSecrets({ ...state.outputs, ...state.inputs }) as Record<string, unknown>,
        };
    });
}

/** A report of new banks: every resource of each created, as --render-diff compares a bank with no old stack. */
function newBanks(aliases: string[]): AuditReport {
    const masker = new Masker();
    const changes: ResourceChange[] = [];
    const overviews = new Map();
    for (const [i, bank] of aliases.entries()) {
        const resources = resourcesOf(i % 2 ? "dnipro.json" : "demo.json", bank);
        for (const r of resources) {
            changes.push(buildChange({ bank, urn: r.urn, type: r.type, name: r.name, op: "create", protect: r.protect, protectAfter: r.protect, new: r.props, fields: leaves(r.props, "add"), changedPaths: leaves(r.props, "add").map((f) => f.path) }, masker));
        }
        overviews.set(bank, bankOverview("new", resources, masker));
    }
    return assembleReport({ title: "t", source: "s", changes, diagnostics: [], policyRan: false, banks: aliases, overviews });
}

const kid = () => crypto.randomBytes(9).toString("base64url");
const jwk = (k: string, alg = "ES256") => ({ kty: "EC", crv: "P-256", x: crypto.randomBytes(32).toString("base64url"), y: crypto.randomBytes(32).toString("base64url"), kid: k, alg, use: "sig" });

describe("a new bank is onboarding, a removed one a retirement", () => {
    it("raises none of the replacement kinds for any resource created, and keeps them for a real replacement", () => {
        for (const name of ["demo.json", "dnipro.json"]) {
            for (const r of resourcesOf(name, "kharkiv")) {
                const paths = leaves(r.props, "add").map((f) => f.path);
                const created = flagsFor({ ...r, op: "create", protectAfter: r.protect, new: r.props, changedPaths: paths });
                assert.deepEqual(created.filter((f) => REPLACEMENT_KINDS.includes(f.kind)).map((f) => f.message), [], `${r.type} ${r.name}`);
            }
        }
        const key = resourcesOf("demo.json", "demo").find((r) => r.name === "jwt-signing-key-a-keypair")!;
        const replaced = flagsFor({ ...key, op: "replace", old: key.props, new: key.props, changedPaths: ["ecdsaCurve"] });
        assert.equal(replaced[0]?.kind, "signing-key", "replacing an existing bank's key is still flagged");
        const signer = resourcesOf("demo.json", "demo").find((r) => r.name === "jwt-signer")!;
        assert.equal(flagsFor({ ...signer, op: "update", old: signer.props, new: signer.props, changedPaths: ["stringData.kid"] })[0]?.kind, "signing-key");
    });

    it("names Kratos' pagination secret (Kratos v26.2.0) when it is regenerated, and what that breaks", () => {
        const cookie = resourcesOf("demo.json", "demo").find((r) => r.name === "kratos-secret-cookie")!;
        const pagination = { ...cookie, name: "kratos-secret-pagination", urn: cookie.urn.replace(/kratos-secret-cookie$/, "kratos-secret-pagination") };
        const [flag] = flagsFor({ ...pagination, op: "replace", protectAfter: false, old: pagination.props, new: pagination.props, changedPaths: ["length"] });
        assert.equal(flag?.kind, "kratos-secret");
        assert.match(flag.message, /^Kratos' pagination secret is regenerated, so page tokens of Kratos' admin lists/);
    });

    it("says each new bank once: one flag, an overview of its hosts and kids, no row per field, every resource counted", () => {
        for (const aliases of [["kharkiv"], ["kharkiv", "poltava", "sumy", "rivne"]]) {
            const report = newBanks(aliases);
            for (const b of report.banks) {
                const flags = b.changes.flatMap((c) => c.flags);
                assert.deepEqual(flags.map((f) => f.kind), ["bank-new"], b.bank);
                assert.deepEqual(b.changes.flatMap((c) => c.fields), [], "no field rows");
                assert.equal(b.overview?.lifecycle, "new");
                assert.ok(b.overview!.hosts.length > 0 && b.overview!.hosts.every((h) => flags[0].message.includes(h)), "the hosts are named");
                assert.ok(b.overview!.keys.length > 0 && b.overview!.keys.every((k) => flags[0].message.includes(k.kid)), "the kids are named");
                assert.equal(b.counts.create, resourcesOf(aliases.indexOf(b.bank) % 2 ? "dnipro.json" : "demo.json", b.bank).length, "every created resource is counted");
            }
            const md = toMarkdown(report);
            for (const kind of ["tokens signed with the old key stop verifying", "must re-register"]) assert.ok(!md.includes(kind), kind);
        }
    });

    it("says a retired bank once, as a retirement, naming what it loses", () => {
        const masker = new Masker();
        const resources = resourcesOf("demo.json", "lviv");
        const overview = bankOverview("retired", resources, masker);
        const changes = resources.map((r) => buildChange({ bank: "lviv", urn: r.urn, type: r.type, name: r.name, op: "delete", protect: r.protect, protectBefore: r.protect, old: r.props, fields: leaves(r.props, "delete"), changedPaths: [] }, masker));
        const report = assembleReport({ title: "t", source: "s", changes, diagnostics: [], policyRan: false, overviews: new Map([["lviv", overview]]) });
        const flags = report.banks[0].changes.flatMap((c) => c.flags);
        assert.deepEqual(flags.map((f) => [f.kind, f.severity]), [["bank-retired", "high"]]);
        assert.match(flags[0].message, new RegExp(`${resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length} resources deleted, ${overview.protectedResources} of them protected`));
        assert.ok(overview.protectedResources > 0);
    });
});

describe("a JWKS is shown as a key-set diff", () => {
    it("lists every kid added, removed and kept, for any two key sets, as a string or an object", () => {
        for (let round = 0; round < 25; round++) {
            const pool = Array.from({ length: 6 }, kid);
            const pick = () => pool.filter(() => Math.random() < 0.5);
            const [before, after] = [pick(), pick()];
            const asString = round % 2 === 0;
            const doc = (kids: string[]) => ({ keys: kids.map((k) => jwk(k, round % 3 ? "ES256" : "ES384")) });
            const value = (kids: string[]) => (asString ? JSON.stringify(doc(kids), null, 2) : doc(kids));
            const urn = "urn:pulumi:demo::dcm-integration::dcm:integration:JwtKeySet$kubernetes:core/v1:ConfigMap::jwt-jwks";
            const old = { data: { "jwks.json": value(before) } };
            const now = { data: { "jwks.json": value(after) } };
            const fields = diffValues(old, now);
            const c = buildChange({ bank: "demo", urn, type: "kubernetes:core/v1:ConfigMap", name: "jwt-jwks", op: fields.length ? "update" : "same", protect: false, old, new: now, fields, changedPaths: fields.map((f) => f.path) }, new Masker());
            if (!fields.length) continue;
            assert.equal(c.fields.length, 1, "one field for the whole key set");
            const set = c.fields[0].keySet!;
            assert.deepEqual(set.added.map((k) => k.kid).sort(), after.filter((k) => !before.includes(k)).sort());
            assert.deepEqual(set.removed.map((k) => k.kid).sort(), before.filter((k) => !after.includes(k)).sort());
            assert.deepEqual(set.kept.map((k) => k.kid).sort(), after.filter((k) => before.includes(k)).sort());
            const md = toMarkdown(assembleReport({ title: "t", source: "s", changes: [c], diagnostics: [], policyRan: false }));
            // Markdown escapes `_`: read the text unescaped. Each added kid stands in the "added" part of the row.
            const row = md.replace(/\\/g, "").split("\n").find((l) => l.includes("(key set)")) ?? "";
            for (const k of set.added) assert.match(row, new RegExp(`added [^;|]*${k.kid.replace(/[-]/g, "\\-")}`), `added kid ${k.kid} shown as added`);
            for (const k of set.removed) assert.match(row, new RegExp(`removed [^;|]*${k.kid.replace(/[-]/g, "\\-")}`), `removed kid ${k.kid} shown as removed`);
            assert.ok(!md.includes('\\"keys\\"') && !md.includes('"x"'), "not the raw document, no key material");
            assert.match(md, /\| update \(key set\) \|/);
        }
    });
});

describe("the HTML table of contents", () => {
    it("links every bank and section to an element that exists, with ids safe for any name", () => {
        const odd = ["kharkiv", "a\"><script>x</script>", "bank with spaces", "Київ", "bank--x", "bank-_2d_"];
        const reports = [reportOf("demo.json", "dnipro.json"), reportOf("demo-failed-program.json"), newBanks(odd)];
        for (const report of reports) {
            const html = toHtml(report);
            const ids = [...html.matchAll(/ id="([^"]*)"/g)].map((m) => m[1]);
            const hrefs = [...html.matchAll(/ href="#([^"]*)"/g)].map((m) => m[1]);
            assert.equal(new Set(ids).size, ids.length, "ids are unique");
            for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]+$/);
            for (const href of hrefs) assert.ok(ids.includes(href), `#${href} has a target`);
            for (const b of report.banks) assert.ok(html.includes(`<a href="#${new Anchors().of(b, "bank", b.bank)}">Bank `), `a contents entry for ${b.bank}`);
            assert.ok(!html.includes("<script"), "names are escaped");
        }
        assert.notEqual(Anchors.encode("a b"), Anchors.encode("a_20_b"), "distinct names, distinct ids");
    });
});

describe("SARIF locations", () => {
    it("points a result at the line of the config key the diff changed, and at no made-up line otherwise", () => {
        const before = "config:\n  dcm-integration:alias: demo\n  dcm-integration:displayName: Demo\n";
        const after = "# comment\nconfig:\n  dcm-integration:alias: demo\n  dcm-integration:displayName: Demo\n  dcm-integration:signingKeys:\n    - slot: a\n      algorithm: ES384\n";
        assert.deepEqual(changedConfigKeys(before, after), [{ key: "dcm-integration:signingKeys", line: 5, change: "added" }]);
        assert.deepEqual(changedConfigKeys(after, before), [{ key: "dcm-integration:signingKeys", change: "removed" }]);
        const report = reportOf("demo.json");
        const results = (r: AuditReport) => (JSON.parse(toSarif(r)) as { runs: { results: { locations: { physicalLocation: { region?: { startLine: number } }; logicalLocations?: unknown[] }[] }[] }[] }).runs[0].results;
        for (const r of results(report)) {
            assert.equal(r.locations[0].physicalLocation.region, undefined, "a preview knows no line");
            assert.ok(r.locations[0].logicalLocations?.length, "the resource's URN instead");
        }
        report.banks[0].configChanges = changedConfigKeys(before, after);
        assert.ok(results(report).every((r) => r.locations[0].physicalLocation.region?.startLine === 5));
    });
});
