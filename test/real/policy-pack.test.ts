/**
 * The policy pack under the real Pulumi CLI (v3.259.0): `pulumi preview --policy-pack <repo>/policies` makes
 * the CLI start the pack with its Node.js language host (policies/PulumiPolicy.yaml `runtime: nodejs`, its
 * package.json `main: index.ts`, ts-node with policies/tsconfig.json, @pulumi/policy resolved from the
 * repository root's node_modules). Previews only, against a real API server (the provider reads the cluster).
 * What the CLI reports is held to `npm run policy`'s offline evaluation of the same stack and pack config.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import type { PolicyPackConfig } from "@pulumi/policy";
import { evaluateStack, stackPolicyConfig } from "../../policies/evaluate";
import { fromRecorded } from "../../scripts/lib/engine/policy-resources";
import { PACK_NAME } from "../../policies/pack";
import { runOffline } from "../../scripts/lib/engine/offline-run";
import { realComponentsAvailable } from "../../real/components";
import { DEPLOYMENT_COMPONENTS, RealDeployment, startDeployment } from "../../support/real/deployment";
import { cliPolicyPacks, CliPolicyRow, notRunInPreview } from "../../support/real/policy-report";
import { PROJECT_ROOT } from "../../domain/project";

const available = realComponentsAvailable(DEPLOYMENT_COMPONENTS);
const PACK_DIR = path.join(PROJECT_ROOT, "policies");
const PACK_VERSION = (JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as { version: string }).version;
// The dnipro stack's secrets, set as DevOps sets them; canaries, so a leak into the output is found.
const DNIPRO_SECRETS: Record<string, string> = {
    kratosDsn: "postgres://kratos:Canary-dsn-5b1e7c@10.42.17.5:5432/kratos?sslmode=verify-full",
    kratosMigrationDsn: "postgres://kratos_ddl:Canary-ddl-8a3f2d@10.42.17.5:5432/kratos?sslmode=verify-full",
    kratosSmtpUri: "smtps://mailer:Canary-smtp-2c9d4e@10.42.18.25:465/",
};
// A platform that serves its banks under another zone: config validation accepts any DNS zone.
const OTHER_DOMAIN = "banks.example.org";

/** The CLI's rows of our pack, and the policies it reported as violated (notices of policies not run excluded). */
function packReport(output: string): { rows: CliPolicyRow[]; violated: string[] } {
    const packs = cliPolicyPacks(output);
    assert.deepEqual(packs.map((p) => [p.pack, p.source]), [[`${PACK_NAME}@v${PACK_VERSION}`, `local: ${PACK_DIR}`]], `the pack as the CLI lists it:\n${output.slice(-3000)}`);
    const rows = packs[0].rows;
    return { rows, violated: [...new Set(rows.filter((r) => !notRunInPreview(r)).map((r) => `${r.level} ${r.policy}`))].sort() };
}

/** What `npm run policy` reports for the temp project's stack under `config`: `<severity> <policy>`, deduplicated. */
async function offlineViolations(d: RealDeployment, stack: string, config?: (project: string, stackConfig: Record<string, string>) => PolicyPackConfig): Promise<string[]> {
    const outcome = await runOffline({ projectDir: d.temp.dir, stack, typecheck: false });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
    const packConfig = config ? config(outcome.project, outcome.stackConfig.config) : stackPolicyConfig(outcome.project, outcome.stackConfig.config);
    return [...new Set(evaluateStack(outcome.resources.map(fromRecorded), { stack, config: packConfig }).map((v) => `${v.severity} ${v.policy}`))].sort();
}

describe("the policy pack under the real Pulumi CLI", { skip: available ? false : `needs ${DEPLOYMENT_COMPONENTS.join(", ")}: run \`npm run real:setup\`` }, () => {
    let d: RealDeployment;
    const preview = (stack: string, extra: string[] = []) => d.pulumi(stack, ["preview", "--policy-pack", PACK_DIR, ...extra]);

    before(async () => {
        d = await startDeployment(["demo", "dnipro"]);
        await d.initStack("demo");
        // dnipro's committed secrets are encrypted for another passphrase: drop them, then set them as DevOps does.
        const file = path.join(d.temp.dir, "stacks", "Pulumi.dnipro.yaml");
        const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
        for (const key of Object.keys(DNIPRO_SECRETS)) assert.ok(doc.deleteIn(["config", `dcm-integration:${key}`]), `stacks/Pulumi.dnipro.yaml no longer sets ${key}`);
        fs.writeFileSync(file, doc.toString());
        await d.initStack("dnipro");
        for (const [key, value] of Object.entries(DNIPRO_SECRETS)) await d.pulumi("dnipro", ["config", "set", "--secret", key, value]);
    });
    after(async () => {
        await d?.stop();
    });

    for (const stack of ["demo", "dnipro"]) {
        it(`passes ${stack} with no mandatory violation, reporting the policies npm run policy reports`, async () => {
            const out = await preview(stack);
            const { rows, violated } = packReport(out);
            assert.deepEqual(violated.filter((v) => v.startsWith("mandatory")), []);
            assert.deepEqual(violated, await offlineViolations(d, stack), JSON.stringify(rows, null, 1));
            // A new stack's generated keys are unknown in its first preview: the CLI says which policies it
            // could not run on them (the update runs them); offline every value is known.
            for (const row of rows.filter(notRunInPreview)) assert.equal(row.level, "advisory", row.message);
            for (const secret of Object.values(DNIPRO_SECRETS)) assert.ok(!out.includes(secret.split(":")[2].split("@")[0]), "a secret in the preview's output");
        });
    }

    it("fails a stack whose hosts are outside the pack's baseDomain with gateway-host-names' message, as npm run policy does with the CLI's pack config", async () => {
        await d.pulumi("demo", ["config", "set", "baseDomain", OTHER_DOMAIN]);
        const failed = await preview("demo").then(() => assert.fail("the preview passed"), (e: Error) => e.message);
        const { rows, violated } = packReport(failed);
        assert.deepEqual(violated.filter((v) => v.startsWith("mandatory")), ["mandatory gateway-host-names"]);
        const hostRows = rows.filter((r) => r.policy === "gateway-host-names");
        assert.ok(hostRows.length >= 2, `one row per host of the ListenerSet and HTTPRoutes: ${JSON.stringify(hostRows)}`);
        for (const r of hostRows) {
            assert.match(r.message, new RegExp(`^Host "(backoffice|api)-demo-integrate\\.${OTHER_DOMAIN.replace(/\./g, "\\.")}" does not follow the naming rule for stack "demo": expected backoffice-demo-integrate\\.dcm\\.example\\.com or api-demo-integrate\\.dcm\\.example\\.com\\.$`));
        }
        assert.match(failed, /error: preview failed/);
        // The CLI gets no pack config here, so the pack's default baseDomain; offline with the same (empty) config agrees.
        assert.deepEqual(violated, await offlineViolations(d, "demo", () => ({})));
    });

    it("passes that stack once --policy-pack-config gives the host rule the stack's baseDomain, as npm run policy takes it", async () => {
        const configFile = path.join(d.temp.dir, "policy-config.json");
        fs.writeFileSync(configFile, JSON.stringify({ "gateway-host-names": { baseDomain: OTHER_DOMAIN } }));
        const { violated } = packReport(await preview("demo", ["--policy-pack-config", configFile]));
        assert.deepEqual(violated.filter((v) => v.startsWith("mandatory")), []);
        assert.deepEqual(violated, await offlineViolations(d, "demo"));
    });
});
