/**
 * `fleet -- drift` over the fake backend (a deployed fleet, one bank edited behind Pulumi's back), the report's
 * formats, and the engine-event reading of the real backend (driftFromEvents) over events shaped as the CLI sends them.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../../../scripts/fleet";
import { driftJunit, xmlEscape } from "../../../scripts/lib/engine/drift";
import { driftFromEvents } from "../../../scripts/lib/engine/stack-backend";
import { FakeStackBackend } from "../../../scripts/lib/engine/fake-stack-backend";
import { tempProject } from "../../../support/onboarding/fixtures";

const JWKS = { urn: "urn:pulumi:dnipro::dcm-integration::dcm:bank:JwtKeySet$kubernetes:core/v1:ConfigMap::jwks", type: "kubernetes:core/v1:ConfigMap", name: "jwks", op: "update", properties: ["data"] };

describe("npm run fleet -- drift (fake backend)", () => {
    const temp = tempProject(["demo", "dnipro"]);
    after(() => temp.cleanup());
    const fake = new FakeStackBackend({ projectDir: temp.dir, cacheRenders: true, fault: (stack, op) => (stack === "broken" && op === "refresh" ? new Error("error: could not reach the cluster") : undefined) });
    const run = async (argv: string[]) => {
        let out = "";
        let err = "";
        const code = await main([...argv, "--project", temp.dir, "--workspaces", path.join(temp.dir, "ws")], {
            backendFor: (dir) => fake.forWorkspace(dir), out: (t) => { out += t; }, err: (t) => { err += t; }, tty: false,
        });
        return { code, out, err };
    };
    const row = (out: string, stack: string) => out.split("\n").find((l) => l.startsWith(`${stack} `)) ?? "";
    before(async () => {
        for (const s of ["demo", "dnipro"]) await (await fake.selectOrCreate(s)).up();
    });

    it("finds no drift on a fresh deployment (exit 0), changing nothing", async () => {
        const before = fake.calls.length;
        const r = await run(["drift"]);
        assert.equal(r.code, 0, r.err);
        for (const s of ["demo", "dnipro"]) assert.match(row(r.out, s), new RegExp(`^${s}\\s+ok\\s+[\\d.]+\\s+no drift`));
        assert.match(r.out, /drift: 2 of 2 stacks in sync/);
        assert.deepEqual(fake.calls.slice(before).filter((c) => c.op === "up" || c.op === "preview"), [], "neither up nor preview ran");
    });

    it("reports the edited bank alone, with what drifted, and exits 1; JSON and JUnit say the same", async () => {
        fake.setDrift("dnipro", [JWKS]);
        const junit = path.join(temp.dir, "drift.xml");
        const r = await run(["drift", "--junit", junit]);
        assert.equal(r.code, 1);
        assert.match(row(r.out, "dnipro"), /^dnipro\s+DRIFTED\s+[\d.]+\s+~ ConfigMap jwks \[data\]$/);
        assert.match(row(r.out, "demo"), /^demo\s+ok\s/);
        assert.match(r.out, /1 of 2 stacks in sync, 1 drifted/);
        const xml = fs.readFileSync(junit, "utf8");
        assert.match(xml, /<testsuite name="fleet drift" tests="2" failures="1" errors="0"/);
        assert.match(xml, /<testcase classname="fleet.drift" name="demo" time="[\d.]+"\/>/);
        assert.match(xml, /name="dnipro"[^>]*>\s*<failure message="1 resource\(s\) drifted">~ ConfigMap jwks \[data\]<\/failure>/);
        const j = await run(["drift", "--json"]);
        assert.equal(j.code, 1);
        const report = JSON.parse(j.out);
        assert.equal(report.drifted, 1);
        assert.deepEqual(report.banks.map((b: { stack: string; status: string }) => [b.stack, b.status]), [["demo", "in-sync"], ["dnipro", "drifted"]]);
        assert.deepEqual(report.banks[1].resources[0], { type: JWKS.type, name: "jwks", op: "update", properties: ["data"], urn: JWKS.urn });
        fake.setDrift("dnipro", []);
    });

    it("reports a bank that could not be checked as an error (exit 1) and goes on with the others", async () => {
        fs.copyFileSync(path.join(temp.dir, "stacks", "Pulumi.demo.yaml"), path.join(temp.dir, "stacks", "Pulumi.broken.yaml"));
        try {
            const r = await run(["drift", "--json"]);
            assert.equal(r.code, 1);
            const report = JSON.parse(r.out);
            assert.equal(report.errors, 1);
            assert.deepEqual(report.banks.find((b: { stack: string }) => b.stack === "broken"), { stack: "broken", status: "error", seconds: report.banks.find((b: { stack: string }) => b.stack === "broken").seconds, error: "error: could not reach the cluster" });
            assert.equal(report.inSync, 2);
        } finally {
            fs.rmSync(path.join(temp.dir, "stacks", "Pulumi.broken.yaml"));
        }
    });

    it("refuses bad usage with exit 2: drift options elsewhere, an empty --junit, no Pulumi CLI", async () => {
        assert.equal((await run(["preview", "--json"])).code, 2);
        assert.equal((await run(["drift", "--junit="])).code, 2);
        let err = "";
        const code = await main(["drift", "--project", temp.dir], { env: { PATH: "" }, out: () => undefined, err: (t) => { err += t; }, tty: false });
        assert.equal(code, 2);
        assert.match(err, /Pulumi CLI is not installed/);
    });
});

describe("the drift report", () => {
    it("keeps JUnit XML well-formed whatever a name holds", () => {
        const hostile = `a"<b>&'\u0001\u2028`;
        const xml = driftJunit([{ stack: hostile, status: "drifted", resources: [{ ...JWKS, name: hostile }], ms: 5 }]);
        assert.ok(!xml.includes("\u0001"));
        assert.ok(xml.includes(xmlEscape(hostile)));
        assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuite [^<>]*>\n {2}<testcase [^<>]*>\n {4}<failure [^<>]*>[^<>]*<\/failure>\n {2}<\/testcase>\n<\/testsuite>\n$/, "no markup from the name");
        assert.equal(xmlEscape(`<&>"'`), "&lt;&amp;&gt;&quot;&apos;");
    });

    it("reads drift from the engine's refresh events: changed and deleted objects, not the unchanged, not the stack", () => {
        const ev = (op: string, urn: string, type: string, diffs?: string[], detailed?: Record<string, unknown>) =>
            ({ sequence: 0, timestamp: 0, resourcePreEvent: { metadata: { op, urn, type, provider: "", diffs, detailedDiff: detailed } } }) as never;
        const found = driftFromEvents([
            ev("same", "urn:pulumi:s::p::kubernetes:core/v1:Service::frontend", "kubernetes:core/v1:Service"),
            ev("refresh", "urn:pulumi:s::p::kubernetes:core/v1:Secret::kratos", "kubernetes:core/v1:Secret"),
            ev("update", JWKS.urn, JWKS.type, ["data"], { "data.jwks.json": { kind: "update" } }),
            ev("refresh", "urn:pulumi:s::p::kubernetes:apps/v1:Deployment::kratos", "kubernetes:apps/v1:Deployment", undefined, { "spec.replicas": { kind: "update" } }),
            ev("delete", "urn:pulumi:s::p::kubernetes:core/v1:ConfigMap::gone", "kubernetes:core/v1:ConfigMap"),
            ev("update", "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "pulumi:pulumi:Stack", ["outputs"]),
        ]);
        assert.deepEqual(found.map((r) => `${r.op} ${r.name} ${r.properties.join()}`).sort(), ["delete gone ", "update jwks data", "update kratos spec"]);
    });
});
