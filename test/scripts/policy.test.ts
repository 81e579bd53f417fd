/** `npm run policy`: usage errors, a clean stack (exit 0), a stack breaking a mandatory rule (exit 1), no secret in the output, the pack config's `all`. */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../scripts/policy";
import { PROJECT_ROOT } from "../../domain/project";

const CANARY = "PolicyCliCanary4b1";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "policy-cli-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function policy(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        // The offline worker inherits the environment: every generated password starts with the canary.
        const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", "scripts/policy.ts", ...args], {
            cwd: PROJECT_ROOT, env: { ...process.env, DCM_OFFLINE_SECRET_CANARY: CANARY }, stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => { stdout += d; });
        child.stderr.on("data", (d) => { stderr += d; });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

function configFile(name: string, content: unknown): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
}

/** main() in this process, its output captured: for the paths that end before any render. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = { stdout: "", stderr: "" };
    const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
    process.stdout.write = ((chunk: string) => { out.stdout += chunk; return true; }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => { out.stderr += chunk; return true; }) as typeof process.stderr.write;
    try {
        const code = await main(args);
        return { code, ...out };
    } finally {
        process.stdout.write = writes.stdout;
        process.stderr.write = writes.stderr;
    }
}

describe("npm run policy", () => {
    it("--help prints usage and exits 0", async () => {
        const r = await inProcess(["--help"]);
        assert.equal(r.code, 0);
        assert.match(r.stdout, /^Usage: npm run policy -- <stack>/);
        assert.match(r.stdout, /pulumi preview --policy-pack policies/);
    });

    it("exits 2 without a stack, with an unknown option or stack, with a bad policy config", async () => {
        const none = await inProcess([]);
        assert.equal(none.code, 2);
        assert.match(none.stderr, /exactly one stack name/);
        const option = await inProcess(["demo", "--fast"]);
        assert.equal(option.code, 2);
        assert.match(option.stderr, /--fast/);
        const unknown = await inProcess(["no-such-bank"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /no-such-bank/);
        const badPolicy = await inProcess(["demo", "--policy-pack-config", configFile("a.json", { "no-such-policy": "advisory" })]);
        assert.equal(badPolicy.code, 2);
        assert.match(badPolicy.stderr, /unknown policy "no-such-policy"/);
        const badLevel = await inProcess(["demo", "--policy-pack-config", configFile("b.json", { "ingress-tls": { enforcementLevel: "sometimes" } })]);
        assert.equal(badLevel.code, 2);
        assert.match(badLevel.stderr, /"ingress-tls": enforcementLevel must be advisory, mandatory, remediate or disabled, got "sometimes"/);
        const notJson = await inProcess(["demo", "--policy-pack-config", configFile("c.json", "{oops")]);
        assert.equal(notJson.code, 2);
        assert.match(notJson.stderr, /c\.json/);
    });

    it("exits 1 on a mandatory violation, with a table by policy, severity and resource", async () => {
        // The demo stack's hosts checked against another domain (its own passes: see test/policies/stacks.test.ts).
        const elsewhere = configFile("domain.json", { "gateway-host-names": { baseDomain: "other.example" } });
        const r = await policy(["demo", "--policy-pack-config", elsewhere]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /Rendering stack 'demo' offline/);
        const [header, ...rows] = r.stdout.split("\n");
        assert.match(header, /^POLICY\s+SEVERITY\s+RESOURCE\s+MESSAGE$/);
        const hostRows = rows.filter((l) => l.startsWith("gateway-host-names "));
        assert.ok(hostRows.length >= 2, r.stdout);
        for (const row of hostRows) {
            assert.match(row, /^gateway-host-names\s+mandatory\s+kubernetes:gateway\.networking\.k8s\.io\/v1:(ListenerSet|HTTPRoute)::\S+\s+Host "(backoffice|api)-demo-integrate\.dcm\.example\.com" does not follow .*expected backoffice-demo-integrate\.other\.example/);
        }
        assert.match(r.stdout, new RegExp(`^${hostRows.length} mandatory and \\d+ advisory violation\\(s\\); \\d+ policies over \\d+ resources of stack 'demo'`, "m"));
        for (const out of [r.stdout, r.stderr]) {
            assert.ok(!out.includes(CANARY), "a password reached the output");
            assert.ok(!out.includes("PRIVATE KEY"), "a private key reached the output");
        }
    });

    it("honours the config's all entry as the CLI does: every policy advisory, so the same violations exit 0", async () => {
        const advisory = configFile("all.json", { all: "advisory", "gateway-host-names": { baseDomain: "other.example" } });
        const r = await policy(["demo", "--policy-pack-config", advisory]);
        assert.equal(r.code, 0, r.stderr);
        const hostRows = r.stdout.split("\n").filter((l) => l.startsWith("gateway-host-names "));
        assert.ok(hostRows.length >= 2, r.stdout);
        for (const row of hostRows) assert.match(row, /^gateway-host-names\s+advisory\s/);
        assert.match(r.stdout, /^0 mandatory and \d+ advisory violation\(s\)/m);
    });
});
