/** `npm run check` as DevOps run it: exit codes, reports, progress, and never a secret on any channel. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { main } from "../../../scripts/check";
import { keyKeeperChecks } from "../../../scripts/lib/checks/plan/key-keeper";
import { checkGroups, DEFAULT_SCENARIO, selectChecks } from "../../../scripts/lib/checks/runner";
import { FakeStackBackend } from "../../../scripts/lib/engine/fake-stack-backend";
import { LoopbackEnv, startEnvironment } from "../../../support/checks/environment";
import { stackMaterial } from "../../../support/checks/stack";
import { PROJECT_ROOT } from "../../../domain/project";


/** The CLI in a child process (async: the servers it talks to live in this process). */
function checkCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "scripts/check.ts"), ...args], {
            cwd: PROJECT_ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(PROJECT_ROOT, "tsconfig.json") },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => { stdout += d; });
        child.stderr.on("data", (d: Buffer) => { stderr += d; });
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

/** main() in this process, its output captured. */
async function inProcess(args: string[], isTTY = false): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(args, { stdout: { write: (t: string) => { out += t; } }, stderr: { write: (t: string) => { err += t; }, isTTY } });
    return { code, out, err };
}

function files(env: LoopbackEnv) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-"));
    const outputs = path.join(dir, "outputs.json");
    fs.writeFileSync(outputs, JSON.stringify(env.outputs, null, 2));
    const ca = path.join(dir, "ca.pem");
    fs.writeFileSync(ca, env.caPem);
    return { dir, outputs, ca, resolve: env.resolve.flatMap((r) => ["--resolve", r]) };
}

function assertNoSecret(env: LoopbackEnv, ...texts: string[]): void {
    for (const text of texts) {
        for (const secret of [...env.material.secrets, ...env.dcm.customerSecrets]) assert.ok(!text.includes(secret), "a secret was printed or written");
        assert.ok(!text.includes("CANARY"), "a canary was printed or written");
    }
}

describe("npm run check", () => {
    it("prints usage for --help; exits 2 on bad usage, naming the problem", async () => {
        const help = await inProcess(["--help"]);
        assert.equal(help.code, 0);
        assert.match(help.out, /Usage: npm run check -- <stack> \[options\]/);
        assert.equal((await inProcess([])).code, 2);
        const bogus = await inProcess(["demo", "--bogus"]);
        assert.equal(bogus.code, 2);
        assert.match(bogus.err, /unknown option --bogus/);
        const badDeadline = await inProcess(["demo", "--outputs", "x.json", "--deadline", "soon"]);
        assert.equal(badDeadline.code, 2);
        assert.match(badDeadline.err, /--deadline: 'soon' is not a duration/);
        const badResolve = await inProcess(["demo", "--outputs", "x.json", "--resolve", "api.example:443:not-an-ip"]);
        assert.equal(badResolve.code, 2);
        assert.match(badResolve.err, /--resolve: 'api\.example:443:not-an-ip' is not HOST:PORT:ADDRESS/);
    });

    it("exits 2 for a malformed outputs file or scenario, naming the field", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-"));
        const file = path.join(dir, "outputs.json");
        fs.writeFileSync(file, JSON.stringify({ alias: "demo", backofficeHost: "Not A Host!" }));
        const r = await inProcess(["demo", "--outputs", file]);
        assert.equal(r.code, 2);
        assert.match(r.err, /outputs\.backofficeHost: 'Not A Host!' is not a DNS host name/);
        fs.writeFileSync(file, "{ not json");
        const notJson = await inProcess(["demo", "--outputs", file]);
        assert.equal(notJson.code, 2);
        assert.match(notJson.err, /--outputs: .* is not JSON/);
        const scenario = path.join(dir, "s.yaml");
        fs.writeFileSync(scenario, "version: 1\nsteps:\n  - id: a\n    planStep: '12'\n    request: { path: /x }\n    expect: { json: [{ path: $.a, tpye: string }] }\n");
        const badScenario = await inProcess(["demo", "--outputs", file, "--scenario", scenario]);
        assert.equal(badScenario.code, 2);
        assert.match(badScenario.err, /steps\[0\]\.expect\.json\[0\]\.tpye: unknown key/);
    });

    it("passes a healthy environment: exit 0, a table by plan step, JUnit and JSON reports, plain progress lines, no secret", async () => {
        const env = await startEnvironment({});
        try {
            const f = files(env);
            const junit = path.join(f.dir, "junit.xml");
            const json = path.join(f.dir, "report.json");
            const r = await checkCli(["demo", "--outputs", f.outputs, ...f.resolve, "--ca", f.ca, "--junit", junit, "--json", json, "--skip", "scenario-*", "--deadline", "10s"]);
            assert.equal(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /^CHECK\s+PLAN STEP\s+RESULT\s+TIME\s+REASON$/m);
            assert.match(r.stdout, /^key-keeper-rejects-hs256-confusion\s+1,6\s+PASS\s+\d+ ms$/m);
            assert.match(r.stdout, /PASSED: 36 passed, 0 failed, 0 skipped/);
            // Not a terminal: plain lines, no escape codes.
            assert.match(r.stderr, /^PASS jwks \(\d+ ms\)$/m);
            assert.ok(!r.stderr.includes("\x1b["));
            const report = JSON.parse(fs.readFileSync(json, "utf8"));
            assert.equal(report.passed, true);
            assert.equal(report.results.length, 36);
            const xml = fs.readFileSync(junit, "utf8");
            assert.match(xml, /<testsuite name="demo" tests="36" failures="0" skipped="0"/);
            assert.equal((xml.match(/<testcase /g) ?? []).length, 36);
            assertNoSecret(env, r.stdout, r.stderr, xml, JSON.stringify(report));
        } finally {
            await env.close();
        }
    });

    it("exits 1 when a check fails, with the reason in the table and JUnit, still without a secret", async () => {
        const m = await stackMaterial();
        const env = await startEnvironment({ material: m, keyKeeperUsers: [m.users[0], { username: m.users[1].username, secret: "CANARY-not-the-seeded-one" }], faults: { backoffice: { noHsts: true } } });
        try {
            const f = files(env);
            const junit = path.join(f.dir, "junit.xml");
            const p = await inProcess(["demo", "--outputs", f.outputs, ...f.resolve, "--ca", f.ca, "--junit", junit, "--only", "hsts-*,key-keeper-get-key"]);
            const r = { stdout: p.out, stderr: p.err };
            assert.equal(p.code, 1);
            assert.match(r.stdout, /^hsts-backoffice\s+5\s+FAIL\s+\d+ ms\s+no Strict-Transport-Security header$/m);
            assert.match(r.stdout, /^key-keeper-get-key\s+1,6,7\s+FAIL .*differs from the seeded one$/m);
            assert.match(r.stdout, /FAILED: 1 passed, 2 failed/);
            const xml = fs.readFileSync(junit, "utf8");
            assert.match(xml, /<failure message="no Strict-Transport-Security header">/);
            assertNoSecret(env, r.stdout, r.stderr, xml);
        } finally {
            await env.close();
        }
    });

    it("takes the outputs from the stack backend when no --outputs is given", async () => {
        const env = await startEnvironment({});
        try {
            const backend = new FakeStackBackend();
            // The fake's outputs: the environment's, with the secret flags the CLI would give.
            const handle = await backend.selectOrCreate("demo");
            handle.outputs = async () => Object.fromEntries(Object.entries(env.outputs).map(([k, value]) => [k, { value, secret: /Passwords|Private/.test(k) }]));
            backend.selectOrCreate = async () => handle;
            let out = "";
            let err = "";
            const code = await main(["demo", "--only", "jwks,key-keeper-get-key", "--ca", files(env).ca, ...env.resolve.flatMap((r) => ["--resolve", r])], {
                backend, stdout: { write: (t: string) => { out += t; } }, stderr: { write: (t: string) => { err += t; }, isTTY: true },
            });
            assert.equal(code, 0, out + err);
            assert.match(out, /PASSED: 2 passed/);
            // On a terminal: a live status line rewritten in place.
            assert.ok(err.includes("\r\u001b[2K[0/2] running"), err);
            assertNoSecret(env, out, err);
        } finally {
            await env.close();
        }
    });

    it("without --outputs and without the Pulumi CLI, exits 2 saying what to do", async () => {
        const backend = new FakeStackBackend({ fault: () => Object.assign(new Error("Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT"), { code: -2 }) });
        let err = "";
        const code = await main(["demo"], { backend, stdout: { write: () => true }, stderr: { write: (t: string) => { err += t; } } });
        assert.equal(code, 2);
        assert.match(err, /--outputs: not given, and the Pulumi CLI is not installed/);
    });

    it("lists the check ids with their plan steps, every column aligned", async () => {
        const r = await inProcess(["--list"]);
        assert.equal(r.code, 0);
        assert.match(r.out, /^key-keeper-rejects-unknown-kid\s+step 1,6\s+GET \/key rejects a token with an unknown kid$/m);
        assert.match(r.out, /^scenario-create-identifier-request\s+step 12\s/m);
        const lines = r.out.trimEnd().split("\n");
        const stepAt = new Set(lines.map((l) => l.indexOf(" step ")));
        const titleAt = new Set(lines.map((l) => /^\S+\s+step \S+\s+/.exec(l)![0].length));
        assert.equal(stepAt.size, 1, "every 'step' in one column");
        assert.equal(titleAt.size, 1, "every title in one column");
        assert.ok(lines.every((l) => / {2}step /.test(l)), "at least two spaces after the longest id");
    });

    it("reads the outputs from stdin with --outputs -, so they never touch the disk", async () => {
        const env = await startEnvironment({});
        try {
            let out = "";
            let err = "";
            const code = await main(["demo", "--outputs", "-", "--only", "jwks,key-keeper-get-key", "--ca", files(env).ca, ...env.resolve.flatMap((r) => ["--resolve", r])], {
                stdin: Readable.from([Buffer.from(JSON.stringify(env.outputs))]),
                stdout: { write: (t: string) => { out += t; } }, stderr: { write: (t: string) => { err += t; } },
            });
            assert.equal(code, 0, out + err);
            assert.match(out, /PASSED: 2 passed/);
            const notJson = await main(["demo", "--outputs", "-"], { stdin: Readable.from([Buffer.from(`{"keyKeeperPasswords": {"processing": "${env.material.users[1].secret}"`)]), stdout: { write: () => true }, stderr: { write: (t: string) => { err += t; } } });
            assert.equal(notJson, 2);
            assert.match(err, /--outputs: stdin is not JSON/);
            assertNoSecret(env, out, err);
        } finally {
            await env.close();
        }
    });

    it("exits 2 before running anything when a report cannot be written", async () => {
        const env = await startEnvironment({});
        try {
            const f = files(env);
            const args = ["demo", "--outputs", f.outputs, ...f.resolve, "--ca", f.ca];
            const cases: [string[], RegExp][] = [
                [["--json", path.join(f.dir, "no-such-dir", "report.json")], /^invalid input: --json: cannot write .*report\.json: no directory /m],
                [["--junit", f.dir], /^invalid input: --junit: cannot write .*: it is a directory$/m],
                [["--junit", path.join(f.outputs, "junit.xml")], /^invalid input: --junit: cannot write .*junit\.xml: .*outputs\.json is not a directory$/m],
            ];
            for (const [extra, message] of cases) {
                const r = await inProcess([...args, ...extra]);
                assert.equal(r.code, 2, r.err);
                assert.match(r.err, message);
            }
            // Every problem at once.
            const all = await inProcess([...args, "--json", f.dir, "--junit", path.join(f.dir, "no-such-dir", "j.xml"), "--deadline", "soon", "--ca", f.outputs]);
            assert.equal(all.code, 2);
            assert.deepEqual(all.err.trim().split("\n").map((l) => l.replace(/:.*/, "")), ["invalid input", "invalid input", "invalid input", "invalid input"]);
            for (const field of ["--deadline", "--ca", "--junit", "--json"]) assert.match(all.err, new RegExp(`^invalid input: ${field}: `, "m"));
            assert.deepEqual(env.requests, { backoffice: 0, api: 0, keyKeeper: 0, plain: 0 }, "nothing was checked");
        } finally {
            await env.close();
        }
    });

    it("exits 2 on npm run render's summary.json, saying what the file is and what to pass instead", async () => {
        // The file render really writes, not a copy of its keys: the test breaks if the two drift apart.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-render-"));
        const render = await new Promise<number | null>((resolve) => {
            spawn(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "scripts/render.ts"), "demo", "--out", dir], {
                cwd: PROJECT_ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(PROJECT_ROOT, "tsconfig.json") }, stdio: "ignore",
            }).on("close", resolve);
        });
        assert.equal(render, 0, "npm run render -- demo");
        const r = await inProcess(["demo", "--outputs", path.join(dir, "summary.json")]);
        assert.equal(r.code, 2);
        assert.equal(r.err, "invalid input: outputs: is `npm run render`'s summary.json (it has project, stack, resourceCount, resources), not the stack's outputs, "
            + "and its secrets are masked: pass the JSON of `pulumi stack output --json --show-secrets`, e.g. `pulumi stack output -s demo --json --show-secrets | npm run check -- demo --outputs -`\n");
    });

    it("reports every problem of the outputs and the flags at once, each naming its field and rule", async () => {
        const material = await stackMaterial();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-"));
        const file = path.join(dir, "outputs.json");
        fs.writeFileSync(file, JSON.stringify({ ...material.outputs, alias: undefined, apiHost: "api_demo", keyKeeperUrl: "http://kk.example", keyKeeperPasswords: { identification: "CANARY-x-0123456789" } }));
        const r = await inProcess(["demo", "--outputs", file, "--deadline", "soon", "--only", "nope"]);
        assert.equal(r.code, 2);
        const lines = r.err.trimEnd().split("\n");
        const expected = [
            /^invalid input: --deadline: 'soon' is not a duration/,
            /^invalid input: --only: 'nope' names no check/,
            /^invalid input: outputs\.alias: is missing$/,
            /^invalid input: outputs\.apiHost: 'api_demo' is not a DNS host name$/,
            /^invalid input: outputs\.keyKeeperPasswords\.processing: is missing$/,
            /^invalid input: outputs\.keyKeeperUrl: must be an https URL$/,
        ];
        assert.equal(lines.length, expected.length, r.err);
        expected.forEach((re, i) => assert.match(lines[i], re));
        assert.ok(!r.err.includes("CANARY"), "a secret of the outputs was printed");
    });

    it("exits 2 when the outputs' alias is not the stack's name: another bank's outputs", async () => {
        const material = await stackMaterial();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-"));
        const file = path.join(dir, "outputs.json");
        fs.writeFileSync(file, JSON.stringify(material.outputs));
        const r = await inProcess(["lviv", "--outputs", file, "--deadline", "1s"]);
        assert.equal(r.code, 2);
        assert.match(r.err, /^invalid input: outputs\.alias: is 'demo', not the stack's name 'lviv' \(one stack per bank alias\): these are another bank's outputs; take stack lviv's \(`pulumi stack output -s lviv --json --show-secrets \| npm run check -- lviv --outputs -`\), or check stack demo$/m);
    });

    it("exits 2 naming the outputs when the private key does not match the public key, instead of blaming the bank", async () => {
        const env = await startEnvironment({});
        try {
            const other = await stackMaterial();
            const f = files(env);
            fs.writeFileSync(f.outputs, JSON.stringify({ ...env.outputs, signingPrivateKeyPem: other.outputs.signingPrivateKeyPem }));
            const r = await inProcess(["demo", "--outputs", f.outputs, ...f.resolve, "--ca", f.ca]);
            assert.equal(r.code, 2);
            assert.match(r.err, /^invalid input: outputs\.signingPrivateKeyPem: does not match outputs\.publicKeyPem/m);
            assert.equal(env.requests.keyKeeper, 0);
            assertNoSecret(env, r.out, r.err);
            assert.ok(!r.err.includes(String(other.outputs.signingPrivateKeyPem).split("\n")[1]));
        } finally {
            await env.close();
        }
    });

    it("banks.md counts the key-keeper checks the plan holds, and its command and sample run exactly those", () => {
        const plan = keyKeeperChecks().map((c) => c.id);
        const rejections = plan.filter((id) => id.startsWith("key-keeper-rejects-"));
        const text = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "banks.md"), "utf8");
        const prose = text.replace(/\s+/g, " ");
        assert.match(prose, new RegExp(`include ${plan.length} key-keeper checks \\(plan steps 1, 6 and 7\\)`));
        assert.match(prose, new RegExp(`and ${rejections.length} forged, wrong, misdirected or replayed tokens`));
        assert.match(prose, new RegExp(`Run the ${plan.length} key-keeper checks`));
        // The command the bank is told to run selects every one of them, and nothing else.
        const only = /npm run check -- lviv --outputs test-outputs\.json --only '([^']+)'/.exec(text)?.[1];
        assert.ok(only, "banks.md has the check command");
        const selected = selectChecks(checkGroups(DEFAULT_SCENARIO), only.split(",")).flatMap((g) => ("chain" in g ? g.chain : [g])).map((c) => c.id);
        assert.deepEqual(selected, plan);
        // Its sample output: a row per check, and the count in the summary.
        const sample = text.slice(text.indexOf("CHECK ", text.indexOf(only)), text.indexOf("(stack lviv)"));
        assert.deepEqual(sample.split("\n").filter((l) => /^\S+\s+[\d,]+\s+PASS\b/.test(l)).map((l) => l.split(/\s+/)[0]), plan);
        assert.match(sample, new RegExp(`PASSED: ${plan.length} passed, 0 failed, 0 skipped`));
    });

    it("the DevOps guide's check table names every check", async () => {
        // The table moved from the README to docs/devops.md with the guides.
        const guide = fs.existsSync(path.join(PROJECT_ROOT, "docs", "devops.md")) ? path.join(PROJECT_ROOT, "docs", "devops.md") : path.join(PROJECT_ROOT, "README.md");
        const text = fs.readFileSync(guide, "utf8");
        const start = text.indexOf("| plan step | check |");
        assert.ok(start >= 0, "the guide has the check table");
        const docs = text.slice(start, text.indexOf("\n\n", start));
        const r = await inProcess(["--list"]);
        const ids = r.out.trimEnd().split("\n").map((l) => l.split(/\s+/)[0]);
        // A check per host or per scenario step is documented by its pattern.
        const documented = (id: string) => [id, id.replace(/-(backoffice|api)$/, "-<host>"), id.replace(/^scenario-.*/, "scenario-<step>")].some((form) => docs.includes(`\`${form}\``));
        assert.deepEqual(ids.filter((id) => !documented(id)), []);
    });
});
