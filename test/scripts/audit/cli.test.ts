/** `npm run audit` as a user runs it: usage, exit codes, clear errors, report files. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../../scripts/audit";
import { CANARY, FIXTURES } from "./helpers";
import { PROJECT_ROOT } from "../../../domain/project";

/** The command in this process (its output captured): fast, same code path as the CLI after argument parsing. */
async function audit(args: string[]) {
    const out = { stdout: "", stderr: "" };
    const [write, writeErr] = [process.stdout.write, process.stderr.write];
    process.stdout.write = ((chunk: string) => ((out.stdout += chunk), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => ((out.stderr += chunk), true)) as typeof process.stderr.write;
    try {
        return { code: await main(args), ...out };
    } finally {
        process.stdout.write = write;
        process.stderr.write = writeErr;
    }
}

/** The command as a user starts it. */
function auditProcess(args: string[]) {
    const r = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "scripts/audit.ts"), ...args], {
        cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, TS_NODE_PROJECT: path.join(PROJECT_ROOT, "tsconfig.json") },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every directory a test makes, removed when the file's tests end. */
const made: string[] = [];
const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-cli-"));
    made.push(dir);
    return dir;
};

describe("npm run audit", () => {
    after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

    it("prints usage for --help; exits 2 on bad usage", async () => {
        const help = await audit(["--help"]);
        assert.equal(help.code, 0);
        assert.match(help.stdout, /npm run audit -- --preview FILE/);
        assert.match(help.stdout, /--render-diff <git-rev>/);
        assert.equal((await audit([])).code, 2);
        assert.equal((await audit(["--preview", "a.json", "--render-diff", "HEAD"])).code, 2);
        assert.equal((await audit(["--preview", "a.json", "--stack", "demo"])).code, 2);
        const level = await audit(["--preview", "a.json", "--fail-on", "severe"]);
        assert.equal(level.code, 2);
        assert.match(level.stderr, /--fail-on must be one of critical, high, medium, got 'severe'/);
        assert.match((await audit(["--preview", "a.json", "--out", "r.json", "--json", "./r.json"])).stderr, /must name different files/);
        assert.match((await audit(["--bogus"])).stderr, /unknown option --bogus/);
    });

    it("exits 2 naming the file and what is wrong with it", async () => {
        const dir = tempDir();
        const bad = path.join(dir, "bad.json");
        fs.writeFileSync(bad, JSON.stringify({ steps: [{ op: "create", urn: "urn:pulumi:demo::p::t::n", newState: { type: "t", urn: "u", inputs: [] } }] }));
        const r = auditProcess(["--preview", bad]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /bad\.json is not valid `pulumi preview --json` output \(1 problem\):\n {2}- steps\[0\]\.newState\.inputs must be an object, got an array/);
        const missing = await audit(["--preview", path.join(dir, "none.json")]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /none\.json does not exist/);
        const directory = await audit(["--preview", dir]);
        assert.equal(directory.code, 2);
        assert.match(directory.stderr, new RegExp(`--preview: ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is a directory`));
        assert.doesNotMatch(directory.stderr, /EISDIR/);
        const rev = await audit(["--render-diff", "no-such-revision-xyz"]);
        assert.equal(rev.code, 2);
        assert.match(rev.stderr, /'no-such-revision-xyz' is not a commit/);
    });

    it("writes Markdown to stdout and HTML to --out, with no secret in either", async () => {
        const dir = tempDir();
        const input = path.join(FIXTURES, "dnipro.json");
        const md = await audit(["--preview", input]);
        assert.equal(md.code, 0, md.stderr);
        assert.match(md.stdout, /^# Audit of a Pulumi preview/);
        const out = path.join(dir, "report.html");
        const html = auditProcess(["--preview", input, "--out", out]);
        assert.equal(html.code, 0, html.stderr);
        assert.match(html.stderr, /wrote .*report\.html: 1 bank\(s\), \d+ change\(s\), \d+ flag\(s\)/);
        const page = fs.readFileSync(out, "utf8");
        assert.match(page, /^<!DOCTYPE html>/);
        assert.match(page, /<h2 id="evidence">Evidence<\/h2>/);
        for (const text of [md.stdout, md.stderr, page, html.stderr]) assert.ok(!text.includes(CANARY));
    });

    it("exits 1 with a banner when a preview failed, also one that stopped after the root stack", async () => {
        for (const name of ["demo-failed-program.json", "demo-failed-after-root.json"]) {
            const r = await audit(["--preview", path.join(FIXTURES, name)]);
            assert.equal(r.code, 1, `${name}: ${r.stderr}`);
            assert.match(r.stderr, /PREVIEW FAILED: demo/);
            assert.match(r.stdout.split("## Summary")[0], /\*\*PREVIEW FAILED\*\* for bank demo/);
        }
    });

    it("--fail-on exits 1 when a flag at that level or above is present, 0 otherwise", async () => {
        const input = path.join(FIXTURES, "dnipro.json");
        // dnipro.json flags one critical (a deleted signing key) and two high, nothing medium.
        for (const [level, code] of [["critical", 1], ["high", 1], ["medium", 1]] as const) {
            const r = await audit(["--preview", input, "--fail-on", level]);
            assert.equal(r.code, code, level);
            assert.match(r.stderr, new RegExp(`--fail-on ${level}: the report has a flag at ${level} or above`));
        }
        const dir = tempDir();
        const calm = path.join(dir, "calm.json");
        fs.writeFileSync(calm, JSON.stringify({ steps: [{ op: "update", urn: "urn:pulumi:demo::dcm-integration::dcm:integration:Kratos$kubernetes:core/v1:ConfigMap::kratos-config",
            oldState: { urn: "u", custom: true, type: "kubernetes:core/v1:ConfigMap", inputs: { data: { a: "1" } } },
            newState: { urn: "u", custom: true, type: "kubernetes:core/v1:ConfigMap", inputs: { data: { a: "2" } } },
            detailedDiff: { "data.a": { kind: "update", inputDiff: false } } }], changeSummary: { update: 1 } }));
        assert.equal((await audit(["--preview", calm, "--fail-on", "medium"])).code, 0, "nothing flagged: the gate passes");
        assert.equal((await audit(["--preview", input])).code, 0, "without --fail-on, flags alone do not fail");
    });

    it("writes the report as JSON and SARIF for tooling, every secret masked", async () => {
        const dir = tempDir();
        const [json, sarif] = [path.join(dir, "r.json"), path.join(dir, "r.sarif")];
        const r = await audit(["--preview", path.join(FIXTURES, "demo.json"), "--preview", path.join(FIXTURES, "dnipro.json"), "--json", json, "--sarif", sarif]);
        assert.equal(r.code, 0, r.stderr);
        const data = JSON.parse(fs.readFileSync(json, "utf8"));
        assert.equal(data.schemaVersion, 1);
        assert.deepEqual(data.banks.map((b: { bank: string }) => b.bank), ["demo", "dnipro"]);
        const flags = data.banks.flatMap((b: { changes: { flags: unknown[] }[] }) => b.changes.flatMap((c) => c.flags));
        assert.equal(data.summary.flags.critical + data.summary.flags.high + data.summary.flags.medium + data.summary.flags.low, flags.length);
        assert.ok(data.banks.some((b: { changes: { policy: unknown[] }[] }) => b.changes.some((c) => c.policy.length)), "policy results are in it");
        assert.equal(data.evidence.inputs.length, 2);
        assert.match(data.evidence.inputs[0].sha256, /^[0-9a-f]{64}$/);
        const log = JSON.parse(fs.readFileSync(sarif, "utf8"));
        assert.equal(log.version, "2.1.0");
        const results = log.runs[0].results as { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
        const ruleIds = new Set(log.runs[0].tool.driver.rules.map((x: { id: string }) => x.id));
        assert.ok(results.every((x) => ruleIds.has(x.ruleId)), "every result names a declared rule");
        assert.ok(results.some((x) => x.ruleId === "audit/signing-key" && x.level === "error" && x.locations[0].physicalLocation.artifactLocation.uri === "stacks/Pulumi.demo.yaml"));
        assert.equal(results.filter((x) => x.ruleId.startsWith("audit/")).length, flags.length);
        for (const text of [fs.readFileSync(json, "utf8"), fs.readFileSync(sarif, "utf8")]) assert.ok(!text.includes(CANARY));
    });
});
