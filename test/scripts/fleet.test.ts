/** `npm run fleet` over a temporary copy of the project's stacks, with the fake Pulumi backend. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../scripts/fleet";
import { FakeStackBackend } from "../../scripts/lib/engine/fake-stack-backend";
import { tempProject } from "../../support/onboarding/fixtures";

describe("npm run fleet", () => {
    const temp = tempProject(["demo", "dnipro"]);
    // A stack file that is not YAML: its bank fails, the others go on.
    fs.writeFileSync(path.join(temp.dir, "stacks", "Pulumi.broken.yaml"), "config:\n  dcm-integration:alias: [broken\n");
    after(() => temp.cleanup());
    const fake = new FakeStackBackend({ projectDir: temp.dir, cacheRenders: true, fault: (stack, op) => (stack === "dnipro" && op === "up" ? new Error("pulumi up failed: the cluster refused the connection") : undefined) });
    const run = async (argv: string[], checked: string[] = []) => {
        let out = "";
        let err = "";
        const code = await main([...argv, "--project", temp.dir, "--workspaces", path.join(temp.dir, "ws")], {
            backendFor: (dir) => fake.forWorkspace(dir),
            checks: async (stack, outputs) => {
                checked.push(stack);
                assert.equal(typeof outputs.backofficeHost, "string", "checks get plain output values");
                return { stack, results: [{ id: "hosts.api", step: "5", title: "api host answers", status: "pass", ms: 3 }], passed: true, ms: 3 };
            },
            out: (t) => { out += t; },
            err: (t) => { err += t; },
            tty: false,
        });
        return { code, out, err };
    };
    const row = (out: string, stack: string) => out.split("\n").find((l) => l.startsWith(`${stack} `)) ?? "";

    it("says the Pulumi CLI is missing before touching any stack (exit 2), and still renders without it", async () => {
        for (const action of ["preview", "up", "check"]) {
            let err = "";
            const ws = path.join(temp.dir, `ws-${action}`);
            const code = await main([action, "--only", "demo", "--project", temp.dir, "--workspaces", ws], { env: { PATH: "" }, out: () => undefined, err: (t) => { err += t; }, tty: false });
            assert.equal(code, 2, err);
            assert.match(err, /^the Pulumi CLI is not installed \(no `pulumi` on PATH\).*fleet -- render/);
            assert.equal(fs.existsSync(ws), false, "no workspace prepared");
        }
    });

    it("renders the named stacks offline and reports a broken one in the summary with exit 1", async () => {
        const { code, out, err } = await run(["render", "--only", "broken"]);
        assert.equal(code, 1);
        assert.match(row(out, "broken"), /^broken\s+FAILED\s+[\d.]+\s+.*(YAML|flow|collection)/i);
        assert.equal(row(out, "demo"), "", "--only leaves it out");
        assert.match(out, /render: 0 of 1 stacks ok, 1 failed/);
        assert.match(err, /broken: render started\n/);
    });

    it("ups every stack a few at a time, then checks the deployed ones", async () => {
        const up = await run(["up", "--only", "demo,dnipro", "--concurrency", "2"]);
        assert.equal(up.code, 1);
        assert.match(row(up.out, "demo"), /ok .*create \d+/);
        assert.match(row(up.out, "dnipro"), /FAILED .*the cluster refused the connection/);
        assert.deepEqual(fake.deployedStacks, ["demo"]);
        assert.deepEqual(fs.readdirSync(path.join(temp.dir, "ws")).sort(), ["demo", "dnipro"]);

        const checked: string[] = [];
        const check = await run(["check", "--only", "demo,dnipro"], checked);
        assert.equal(check.code, 1);
        assert.deepEqual(checked, ["demo"]);
        assert.match(row(check.out, "demo"), /ok .*1 passed, 0 failed, 0 skipped/);
        assert.match(row(check.out, "dnipro"), /FAILED .*no outputs/);
        assert.equal((await run(["check", "--only", "demo"])).code, 0);
    });

    it("refuses unknown operations and aliases with exit code 2", async () => {
        const unknown = await run(["preview", "--only", "demo,nosuch"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.err, /no stack file for 'nosuch'/);
        assert.equal((await run(["destroy"])).code, 2);
        assert.equal((await run(["up", "--concurrency", "0"])).code, 2);
    });
});
