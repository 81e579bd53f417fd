/**
 * `npm run fleet -- drift` with the real Pulumi CLI (Automation API: `pulumi refresh --preview-only
 * --expect-no-changes`) over two freshly deployed banks in a real API server: no drift; then one bank's ConfigMap
 * edited with kubectl behind Pulumi's back is reported for that bank alone, and nothing is changed by the check.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { main as fleet } from "../../scripts/fleet";
import { kubectl } from "../../support/real/apiserver";
import { deploymentAvailable, DEPLOYMENT_SKIP, RealDeployment, startDeployment, UP_TIMEOUT } from "../../support/real/deployment";

const BANKS = ["demo", "kyiv"];

describe("fleet -- drift over two deployed banks, for real", { skip: deploymentAvailable ? false : DEPLOYMENT_SKIP, timeout: 3 * UP_TIMEOUT }, () => {
    let real: RealDeployment;
    const run = async (extra: string[] = []) => {
        let out = "";
        let err = "";
        const code = await fleet(["drift", "--project", real.temp.dir, "--concurrency", "2", ...extra], {
            out: (t) => { out += t; }, err: (t) => { err += t; }, tty: false,
        });
        return { code, out, err };
    };
    const row = (out: string, stack: string) => out.split("\n").find((l) => l.startsWith(`${stack} `)) ?? "";

    before(async () => {
        real = await startDeployment(["demo"]);
        // A second dev-mode bank: the demo bank's file under another alias.
        const demo = fs.readFileSync(path.join(real.temp.dir, "stacks", "Pulumi.demo.yaml"), "utf8");
        fs.writeFileSync(path.join(real.temp.dir, "stacks", "Pulumi.kyiv.yaml"), demo.replace("dcm-integration:alias: demo", "dcm-integration:alias: kyiv"));
        for (const bank of BANKS) await real.initStack(bank);
        for (const bank of BANKS) await real.pulumi(bank, ["up", "--yes", "--skip-preview"]);
        real.exportKubeconfig();
    });
    after(async () => {
        await real?.stop();
    });

    it("finds no drift right after the deployment (exit 0)", async () => {
        const r = await run();
        assert.equal(r.code, 0, `${r.out}\n${r.err}`);
        for (const bank of BANKS) assert.match(row(r.out, bank), /\sok\s+[\d.]+\s+no drift$/, r.out);
    });

    it("reports a kubectl edit of one bank's object for that bank alone, and changes nothing", async () => {
        const ns = "bank-kyiv-integrate";
        const edit = await kubectl(real.cp, ["patch", "configmap", "jwks-server-nginx", "-n", ns, "--type", "merge", "-p", JSON.stringify({ data: { "default.conf": "# edited by hand\n" } })]);
        assert.equal(edit.code, 0, edit.stderr);
        const r = await run(["--json"]);
        assert.equal(r.code, 1, `${r.out}\n${r.err}`);
        const report = JSON.parse(r.out) as { drifted: number; banks: { stack: string; status: string; resources?: { type: string; name: string; properties: string[] }[] }[] };
        const byStack = Object.fromEntries(report.banks.map((b) => [b.stack, b]));
        assert.equal(byStack.demo.status, "in-sync", JSON.stringify(byStack.demo));
        assert.equal(byStack.kyiv.status, "drifted", JSON.stringify(byStack.kyiv));
        assert.deepEqual(byStack.kyiv.resources!.map((x) => `${x.type} ${x.name}`), ["kubernetes:core/v1:ConfigMap jwks-server-nginx"]);
        assert.ok(byStack.kyiv.resources![0].properties.includes("data"), JSON.stringify(byStack.kyiv.resources));
        // A preview: the edit is still in the cluster, and the state still holds the deployed value.
        const live = await kubectl(real.cp, ["get", "configmap", "jwks-server-nginx", "-n", ns, "-o", "jsonpath={.data.default\\.conf}"]);
        assert.equal(live.stdout, "# edited by hand\n");
        const again = await run();
        assert.equal(again.code, 1);
        assert.match(row(again.out, "kyiv"), /\sDRIFTED\s+[\d.]+\s+~ ConfigMap jwks-server-nginx \[.*data.*\]$/);
    });
});
