/** `npm run render` as a user runs it: exit codes, files, masking, determinism. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as YAML from "yaml";
import { listStacks, readProject } from "../../scripts/lib/engine/stack-config";
import { PROJECT_ROOT } from "../../domain/project";


function renderCli(args: string[], cwd = PROJECT_ROOT) {
    const r = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "scripts/render.ts"), ...args], {
        cwd, encoding: "utf8", env: { ...process.env, TS_NODE_PROJECT: path.join(PROJECT_ROOT, "tsconfig.json") },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run render", () => {
    it("prints usage for --help and exits 0; exits 2 on bad usage", () => {
        const help = renderCli(["--help"]);
        assert.equal(help.code, 0);
        assert.match(help.stdout, /Usage: npm run render -- <stack> \[--out DIR\] \[--seed TEXT\]/);
        assert.match(help.stdout, /npm run render -- <stack> --diff REV/);
        assert.match(help.stdout, /With --diff: 0 no change; 1 changes; 2 bad usage.*; 3 a render failed/);
        assert.equal(renderCli([]).code, 2);
        const unknown = renderCli(["demo", "--bogus"]);
        assert.equal(unknown.code, 2);
        // The project's words, the options there are, then the usage; not Node's parseArgs text.
        assert.match(unknown.stderr, /^unknown option --bogus \(the options are --out, --seed, --diff, -h\/--help\)\n\nUsage: npm run render/);
        assert.doesNotMatch(unknown.stderr, /positional argument/);
        assert.equal(renderCli(["demo", "--diff", "HEAD", "--out", "x"]).code, 2);
    });

    it("exits 2 for a stack without a config file, naming the file and the stacks there are", () => {
        const r = renderCli(["nobank", "--out", fs.mkdtempSync(path.join(os.tmpdir(), "render-"))]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /stack 'nobank' has no config file: stacks\/Pulumi\.nobank\.yaml does not exist\./);
        const stacks = listStacks(readProject(PROJECT_ROOT));
        assert.ok(stacks.length > 0);
        assert.ok(r.stderr.includes(`The stacks in stacks/ are: ${stacks.join(", ")}.`), r.stderr);
        assert.doesNotMatch(r.stderr, /Rendering stack/, "nothing is started");
    });

    it("writes masked, ordered manifests and a summary, twice the same objects in the same order", () => {
        const out = (n: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "render-")), n);
        const [a, b] = [out("a"), out("b")];
        const first = renderCli(["dnipro", "--out", a]);
        assert.equal(first.code, 0, first.stderr);
        // dnipro keeps Pulumi.yaml's all-zero frontend digest: said loudly, once, naming the Deployment; Kratos' real one is not.
        assert.deepEqual(first.stderr.split("\n").filter((l) => l.startsWith("WARNING:")).map((l) => /^WARNING: (\S+ \S+) containers\[0\] "(\w+)" .*placeholder digest/.exec(l)?.slice(1)),
            [["kubernetes:apps/v1:Deployment frontend-deployment", "frontend"]]);
        assert.match(first.stdout, /kubernetes:core\/v1:Secret\s+jwt-signer\s+Secret\/dcm-platform\/jwt-signing-key-dnipro-integrate\s+yes/);
        const hostRows = first.stdout.split("\n").filter((l) => /^(api|backoffice)-dnipro-integrate\.dcm\.example\.com\s/.test(l));
        assert.ok(hostRows.some((l) => l.startsWith("backoffice-")) && hostRows.some((l) => l.startsWith("api-")), "both hosts listed");
        assert.ok(hostRows.every((l) => !/\snone\s/.test(l)), `every host has a TLS secret:\n${hostRows.join("\n")}`);
        // Alive while it works: each phase on stderr, in order, with its time.
        const phases = first.stderr.split("\n").filter((l) => /^ {2}\[\d+\.\d s\] /.test(l)).map((l) => l.replace(/^ {2}\[\d+\.\d s\] /, "").replace(/\d+/g, "N"));
        assert.deepEqual([...new Set(phases)].slice(0, 4), ["type checking the program (ts-node, as the Pulumi CLI does)", "running the program", "N resources registered", "program done: N resources registered"]);
        assert.match(phases.at(-1) ?? "", /^writing .*manifests\.yaml and summary\.json$/, "writing is the last phase");
        assert.doesNotMatch(first.stdout, /REPRODUCIBLE/, "an unseeded render is not marked");
        // The second render is seeded: marked as not for deployment in both files and on stdout.
        const seeded = renderCli(["dnipro", "--out", b, "--seed", "review"]);
        assert.equal(seeded.code, 0, seeded.stderr);
        assert.match(seeded.stdout, /^REPRODUCIBLE RENDER, NOT FOR DEPLOYMENT: .* seed "review"/m);
        assert.match(fs.readFileSync(path.join(b, "manifests.yaml"), "utf8"), /^# REPRODUCIBLE RENDER, NOT FOR DEPLOYMENT: .* seed "review"/);
        assert.equal(JSON.parse(fs.readFileSync(path.join(b, "summary.json"), "utf8")).reproducible.seed, "review");
        const docs = (dir: string) => YAML.parseAllDocuments(fs.readFileSync(path.join(dir, "manifests.yaml"), "utf8")).map((d) => d.toJS());
        const ids = (dir: string) => docs(dir).map((o) => `${o.kind}/${o.metadata.name}`);
        assert.deepEqual(ids(a), ids(b));
        assert.equal(ids(a)[0], "Namespace/bank-dnipro-integrate");
        const text = fs.readFileSync(path.join(a, "manifests.yaml"), "utf8");
        assert.ok(!/PRIVATE KEY/.test(text), "no private key in the manifests");
        const keeper = docs(a).find((o) => o.metadata.name === "key-keeper-users");
        assert.deepEqual(Object.values(keeper.stringData), ["[secret]", "[secret]", "[secret]", "[secret]"], "keys kept, values masked");
        const summary = JSON.parse(fs.readFileSync(path.join(a, "summary.json"), "utf8"));
        assert.equal(summary.stack, "dnipro");
        assert.equal(summary.outputs.keyKeeperPasswords.identification, "[secret]");
        assert.equal(summary.outputs.signingPrivateKeyPem, "[secret]");
        assert.ok(summary.resources.some((r: { type: string; protect?: boolean }) => r.type === "tls:index/privateKey:PrivateKey" && r.protect));
    });

    it("exits 2 with every config problem and writes nothing", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-bad-"));
        try {
            // A copy of the project with a bank file wrong in three ways. The command renders the project its
            // scripts/ and domain/project.ts sit in, so both are copied (a symlink would resolve back to this repository).
            fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            for (const d of ["scripts", "domain"]) fs.cpSync(path.join(PROJECT_ROOT, d), path.join(dir, d), { recursive: true });
            for (const d of ["infra", "components", "policies", "node_modules"]) fs.symlinkSync(path.join(PROJECT_ROOT, d), path.join(dir, d));
            fs.copyFileSync(path.join(PROJECT_ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
            fs.copyFileSync(path.join(PROJECT_ROOT, "package.json"), path.join(dir, "package.json"));
            fs.mkdirSync(path.join(dir, "stacks"));
            // The demo bank's file (valid as the project evolves) with three of its values broken.
            const bad = YAML.parseDocument(fs.readFileSync(path.join(PROJECT_ROOT, "stacks", "Pulumi.demo.yaml"), "utf8"));
            bad.setIn(["config", "dcm-integration:alias"], "bad");
            bad.setIn(["config", "dcm-integration:assetCode"], "ABC");
            bad.setIn(["config", "dcm-integration:firstEmployeeEmail"], "not-an-email");
            bad.setIn(["config", "dcm-integration:keyKeeperUrl"], "http://keeper.bad.example");
            fs.writeFileSync(path.join(dir, "stacks", "Pulumi.bad.yaml"), bad.toString());
            const before = fs.readdirSync(dir).sort();
            const out = path.join(dir, "out");
            const r = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(dir, "scripts/render.ts"), "bad", "--out", out], {
                cwd: dir, encoding: "utf8", env: { ...process.env, TS_NODE_PROJECT: path.join(dir, "tsconfig.json") },
            });
            assert.equal(r.status, 2, r.stderr);
            assert.match(r.stderr, /Invalid configuration for stack 'bad' \(3 problems\); nothing was created:/);
            assert.match(r.stderr, /dcm-integration:assetCode must be an ISO 4217/);
            assert.match(r.stderr, /dcm-integration:firstEmployeeEmail must be an email address/);
            assert.match(r.stderr, /dcm-integration:keyKeeperUrl must use https/);
            assert.ok(!fs.existsSync(out), "the --out directory must not be created");
            assert.deepEqual(fs.readdirSync(dir).sort(), before, "nothing else is written in the working directory");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
