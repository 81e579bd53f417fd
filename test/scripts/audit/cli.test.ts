/** `npm run audit` as a user runs it: usage, exit codes, clear errors, report files. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { main } from "../../../scripts/audit";
import { CANARY, FIXTURES, ROOT } from "./helpers";

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
    const r = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(ROOT, "scripts/audit.ts"), ...args], {
        cwd: ROOT, encoding: "utf8", env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run audit", () => {
    it("prints usage for --help; exits 2 on bad usage", async () => {
        const help = await audit(["--help"]);
        assert.equal(help.code, 0);
        assert.match(help.stdout, /npm run audit -- --preview FILE/);
        assert.match(help.stdout, /--render-diff <git-rev>/);
        assert.equal((await audit([])).code, 2);
        assert.equal((await audit(["--preview", "a.json", "--render-diff", "HEAD"])).code, 2);
        assert.equal((await audit(["--preview", "a.json", "--stack", "demo"])).code, 2);
        assert.match((await audit(["--bogus"])).stderr, /Unknown option '--bogus'/);
    });

    it("exits 2 naming the file and what is wrong with it", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-cli-"));
        const bad = path.join(dir, "bad.json");
        fs.writeFileSync(bad, JSON.stringify({ steps: [{ op: "create", urn: "urn:pulumi:demo::p::t::n", newState: { type: "t", urn: "u", inputs: [] } }] }));
        const r = auditProcess(["--preview", bad]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /bad\.json is not valid `pulumi preview --json` output \(1 problem\):\n {2}- steps\[0\]\.newState\.inputs must be an object, got an array/);
        const missing = await audit(["--preview", path.join(dir, "none.json")]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /none\.json does not exist/);
        const rev = await audit(["--render-diff", "no-such-revision-xyz"]);
        assert.equal(rev.code, 2);
        assert.match(rev.stderr, /'no-such-revision-xyz' is not a commit/);
    });

    it("writes Markdown to stdout and HTML to --out, with no secret in either", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-cli-"));
        const input = path.join(FIXTURES, "dnipro-show-secrets.json");
        const md = await audit(["--preview", input]);
        assert.equal(md.code, 0, md.stderr);
        assert.match(md.stdout, /^# Audit of a Pulumi preview/);
        const out = path.join(dir, "report.html");
        const html = auditProcess(["--preview", input, "--out", out]);
        assert.equal(html.code, 0, html.stderr);
        assert.match(html.stderr, /wrote .*report\.html: 1 bank\(s\), \d+ change\(s\), \d+ flag\(s\)/);
        const page = fs.readFileSync(out, "utf8");
        assert.match(page, /^<!DOCTYPE html>/);
        for (const text of [md.stdout, md.stderr, page, html.stderr]) assert.ok(!text.includes(CANARY));
    });
});
