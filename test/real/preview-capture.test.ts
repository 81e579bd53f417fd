/**
 * The audit's preview fixtures stay what the real CLI prints: the capture (test/fixtures/preview/capture.ts)
 * runs again for the demo bank's scenarios into a scratch folder, and what it captures must have the shape of the
 * committed files (every key the CLI writes, where it writes it; the steps it shows and their operations; what the
 * audit makes of them). A CLI or provider whose JSON drifts fails here, before the audit reads a format it no
 * longer gets.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { auditPreviews } from "../../scripts/lib/audit/from-preview";
import { parsePreview } from "../../scripts/lib/audit/preview";
import { capture, Captured, FIXTURE_DIR, SECRET_CANARY_PREFIX } from "../fixtures/preview/capture";
import { SCENARIOS } from "../fixtures/preview/scenarios";
import { deploymentAvailable, DEPLOYMENT_SKIP } from "../../support/real/deployment";

/** The demo bank's scenarios: one deployment, every kind of document (changes, a failed program, a program failing partway). */
const NAMES = Object.keys(SCENARIOS).filter((n) => SCENARIOS[n].stack === "demo");

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * The format of a preview document without its values: the top-level keys; per step its op and resource name
 * (the URN's last part), the keys of the step, of its states and of its detailed diff entries; the diagnostics'
 * keys and severities; the summary's operations.
 */
function shape(text: string) {
    const doc = JSON.parse(text) as Record<string, Json>;
    const keys = (o: Json | undefined) => (o && typeof o === "object" && !Array.isArray(o) ? Object.keys(o).sort() : []);
    const union = (xs: string[][]) => [...new Set(xs.flat())].sort();
    const steps = (doc.steps ?? []) as Record<string, Json>[];
    const states = steps.flatMap((s) => [s.oldState, s.newState]).filter(Boolean);
    return {
        top: keys(doc),
        steps: steps.map((s) => `${s.op} ${String(s.urn).split("::").pop()}`).sort(),
        stepKeys: union(steps.map(keys)),
        stateKeys: union(states.map(keys)),
        diffEntryKeys: union(steps.flatMap((s) => Object.values((s.detailedDiff ?? {}) as Record<string, Json>).map(keys))),
        diffKinds: union(steps.flatMap((s) => Object.values((s.detailedDiff ?? {}) as Record<string, { kind: string }>).map((d) => [d.kind]))),
        diagnostics: union(((doc.diagnostics ?? []) as Json[]).map((d) => [...keys(d), `severity:${(d as { severity: string }).severity}`])),
        summary: keys(doc.changeSummary),
    };
}

/** What the audit makes of a document: per changed resource its operation and the kinds of its flags. */
function audited(file: string, text: string) {
    const report = auditPreviews([parsePreview(text, file)]);
    return {
        changes: report.banks.flatMap((b) => b.changes.map((c) => `${c.op} ${c.name}: ${c.flags.map((f) => f.kind).join(",")}`)).sort(),
        failed: report.failures.length,
    };
}

describe("the preview fixtures are the real CLI's output", { skip: deploymentAvailable ? false : DEPLOYMENT_SKIP }, () => {
    let out: string;
    let captured: Captured[];

    before(async () => {
        out = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-capture-"));
        captured = await capture(NAMES, out);
    });
    after(() => {
        if (out) fs.rmSync(out, { recursive: true, force: true });
    });

    it("captures each scenario into its file, byte for byte what the CLI printed", () => {
        assert.deepEqual(captured.map((c) => c.file).sort(), NAMES.map((n) => SCENARIOS[n].file).sort());
        for (const c of captured) assert.equal(fs.readFileSync(path.join(out, c.file), "utf8"), c.json, c.file);
    });

    it("has the shape of the committed fixtures: the same keys where the CLI writes them, the same steps", () => {
        for (const c of captured) {
            const committed = fs.readFileSync(path.join(FIXTURE_DIR, c.file), "utf8");
            assert.deepEqual(shape(c.json), shape(committed), `${c.file}: the CLI's output drifted from the committed fixture (re-capture with npm run fixtures:capture and check the audit)`);
        }
    });

    it("gives the audit the same changes and flags as the committed fixtures", () => {
        for (const c of captured) {
            assert.deepEqual(audited(c.file, c.json), audited(c.file, fs.readFileSync(path.join(FIXTURE_DIR, c.file), "utf8")), c.file);
        }
    });

    it("holds no private key and none of the stack's generated secrets (the capture checks them too)", () => {
        for (const c of captured) {
            assert.doesNotMatch(c.json, /PRIVATE KEY/, c.file);
            assert.ok(!c.json.includes(SECRET_CANARY_PREFIX), c.file);
        }
    });
});
