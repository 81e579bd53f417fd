/**
 * `npm run fleet -- preview` and `-- up` over two banks with the real Pulumi CLI (through the Automation API, as
 * DevOps runs it), into a real API server: a dev-mode bank (demo) and one with PostgreSQL and a mail relay whose
 * secrets are set with `pulumi config set --secret` (dnipro).
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { after, before, describe, it } from "node:test";
import { main as fleet } from "../../scripts/fleet";
import { kubectl } from "../../support/real/apiserver";
import { deploymentAvailable, DEPLOYMENT_SKIP, RealDeployment, startDeployment } from "../../support/real/deployment";

const BANKS = ["demo", "dnipro"];
const canary = `Canary-fleet-${crypto.randomBytes(10).toString("hex")}`;
const DNIPRO_SECRETS: Record<string, string> = {
    kratosDsn: `postgres://kratos:${canary}@db.dniprobank.internal:5432/kratos?sslmode=verify-full`,
    kratosMigrationDsn: `postgres://kratos_ddl:${canary}@db.dniprobank.internal:5432/kratos?sslmode=verify-full`,
    kratosSmtpUri: `smtps://dcm-mailer:${canary}@smtp.dniprobank.com.ua:465/`,
};

describe("the fleet over two banks, for real", { skip: deploymentAvailable ? false : DEPLOYMENT_SKIP }, () => {
    let real: RealDeployment;
    /** Runs the fleet command in this process, capturing what it prints. */
    const run = async (action: string) => {
        let out = "";
        let err = "";
        const code = await fleet([action, "--project", real.temp.dir, "--concurrency", "2"], {
            out: (t) => { out += t; }, err: (t) => { err += t; }, tty: false,
        });
        return { code, out, err };
    };
    /** The DETAIL column of the fleet's table, by stack. */
    const details = (out: string) => Object.fromEntries(out.split("\n").filter((l) => BANKS.some((b) => l.startsWith(`${b} `)))
        .map((l) => { const [stack, result, , ...rest] = l.split(/\s{2,}/); return [stack, `${result}: ${rest.join(" ")}`]; }));

    before(async () => {
        real = await startDeployment(BANKS);
        for (const bank of BANKS) await real.initStack(bank);
        for (const [key, value] of Object.entries(DNIPRO_SECRETS)) await real.sandbox.setSecret(key, value, real.temp.dir, "dnipro");
        real.exportKubeconfig();
    });
    after(async () => {
        await real?.stop();
    });

    it("previews both banks: every resource to create, nothing deployed", async () => {
        const r = await run("preview");
        assert.equal(r.code, 0, `${r.out}\n${r.err}`);
        const got = details(r.out);
        for (const bank of BANKS) assert.match(got[bank] ?? "", /^ok: create \d+$/, `${bank}: ${got[bank]}`);
        assert.match(r.out, /preview: 2 of 2 stacks ok/);
        const ns = await kubectl(real.cp, ["get", "namespaces", "-o", "name"]);
        assert.ok(!ns.stdout.includes("bank-"), "a preview deployed nothing");
    });

    it("deploys both banks with `fleet -- up`, and then previews every resource unchanged", async () => {
        const up = await run("up");
        assert.equal(up.code, 0, `${up.out}\n${up.err}`);
        const created = Object.fromEntries(BANKS.map((bank) => [bank, /^ok: create (\d+)$/.exec(details(up.out)[bank] ?? "")?.[1]]));
        for (const bank of BANKS) assert.ok(created[bank], `${bank}: ${details(up.out)[bank]}`);
        for (const bank of BANKS) {
            const ns = await kubectl(real.cp, ["get", "namespace", `bank-${bank}-integrate`, "-o", "name"]);
            assert.equal(ns.code, 0, `${bank}'s namespace: ${ns.stderr}`);
        }
        const again = await run("preview");
        assert.equal(again.code, 0, again.err);
        // Every resource the up created, unchanged (the engine counts them as "same").
        for (const bank of BANKS) assert.equal(details(again.out)[bank], `ok: same ${created[bank]}`, again.out);
        for (const text of [up.out, up.err, again.out, again.err]) assert.ok(!text.includes(canary.slice(0, 16)), "a secret in the fleet's output");
    });
});
