/**
 * The real Pulumi CLI against what onboarding writes and what DevOps runs by hand: the stack file the Jira
 * flow writes, the per-bank workspace whose Pulumi.yaml points back through `stackConfigDir`, and
 * `pulumi config set --secret` on that file. These were type-checked only until the CLI could be built here.
 *
 * Not here: `pulumi preview`/`up`. They need the Node.js language host and the random and tls resource
 * plugins, which the Go module proxy does not serve at the versions the SDK asks for (docs/devops.md,
 * "Real components"); a host or plugin written by us would test our picture of Pulumi, not Pulumi.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import { PULUMI_CLI_VERSION } from "../../real/recipes";
import { realBinary, realComponentsAvailable } from "../../real/components";
import { recordedTicket, writeStackFile } from "../../scripts/lib/onboarding/stack-file";
import { prepareWorkspace } from "../../scripts/lib/onboarding/workspace";
import { PulumiCliBackend } from "../../scripts/lib/engine/stack-backend";
import { loadStackConfig, stackFilePath } from "../../scripts/lib/engine/stack-config";
import { tempProject, TempProject } from "../../support/onboarding/fixtures";
import { run } from "../../support/real/process";
import { pulumiSandbox, PulumiSandbox } from "../../support/real/pulumi";

const available = realComponentsAvailable(["pulumi"]);
const ALIAS = "lviv";
const TICKET = "DCMOPS-1107";
// Canaries: values that must never appear in a file or an output in plain text.
const DSN = "postgres://kratos:Canary-dsn-7f3a9c2e1b@db.lviv.internal:5432/kratos?sslmode=verify-full";
const SMTP = "smtps://mailer:Canary-smtp-4d8e6b1a9f@mail.lviv.internal:465/";
const BANK = {
    alias: ALIAS,
    displayName: "Lviv Bank",
    firstEmployeeEmail: "officer@lvivbank.example",
    keyKeeperUrl: "https://keys.lvivbank.example/",
    assetCode: "UAH",
};

describe("the real Pulumi CLI on onboarding's files", { skip: available ? false : "the Pulumi CLI is not built: run `npm run real:setup`" }, () => {
    let sandbox: PulumiSandbox;
    let temp: TempProject;
    let workspace: string;

    before(() => {
        sandbox = pulumiSandbox("test-passphrase-not-a-secret");
        temp = tempProject([]);
        workspace = prepareWorkspace(temp.project, ALIAS, path.join(temp.dir, ".pulumi", "workspaces"));
    });
    after(() => {
        sandbox?.cleanup();
        temp?.cleanup();
    });

    it("is the CLI release real:setup pins", async () => {
        const version = (await sandbox.pulumi(["version"], temp.dir)).trim();
        assert.equal(version, PULUMI_CLI_VERSION);
    });

    it("creates the bank's stack from its workspace and sets secrets in the stack file onboarding wrote, keeping its owner line", async () => {
        assert.equal(writeStackFile(temp.project, ALIAS, TICKET, BANK, BANK.displayName), "created");
        const file = stackFilePath(temp.project, ALIAS);
        const written = YAML.parse(fs.readFileSync(file, "utf8")).config;

        const stack = await new PulumiCliBackend(workspace).selectOrCreate(ALIAS);
        await stack.setConfig({
            "dcm-integration:kratosDsn": { value: DSN, secret: true },
            "dcm-integration:kratosSmtpUri": { value: SMTP, secret: true },
        });

        const text = fs.readFileSync(file, "utf8");
        assert.equal(recordedTicket(text), TICKET, `the CLI kept the owner line first:\n${text.split("\n").slice(0, 3).join("\n")}`);
        for (const canary of [DSN, SMTP, "Canary-dsn-7f3a9c2e1b", "Canary-smtp-4d8e6b1a9f"]) assert.ok(!text.includes(canary), "a secret in plain text in the stack file");
        const config = YAML.parse(text).config as Record<string, unknown>;
        for (const [key, value] of Object.entries(written)) assert.deepEqual(config[key], value, `${key} unchanged by the CLI`);
        for (const key of ["kratosDsn", "kratosSmtpUri"]) {
            assert.equal(typeof (config[`dcm-integration:${key}`] as { secure?: unknown })?.secure, "string", `${key} stored encrypted`);
        }
        // The project's own reader sees them as secrets, as the program's requireSecret will.
        assert.deepEqual(loadStackConfig(temp.project, ALIAS).secretKeys.sort(), ["dcm-integration:kratosDsn", "dcm-integration:kratosSmtpUri"]);
    });

    it("finds the stack file through the workspace's stackConfigDir, and shows secrets only when asked", async () => {
        const plain = JSON.parse(await sandbox.pulumi(["config", "--json", "-s", ALIAS], workspace)) as Record<string, { value?: string; secret: boolean }>;
        assert.equal(plain["dcm-integration:alias"]?.value, ALIAS);
        assert.equal(plain["dcm-integration:kratosDsn"]?.secret, true);
        assert.ok(!JSON.stringify(plain).includes("Canary-dsn"), "config --json without --show-secrets printed a secret");
        const dsn = (await sandbox.pulumi(["config", "get", "dcm-integration:kratosDsn", "-s", ALIAS], workspace)).trim();
        assert.equal(dsn, DSN);
    });

    it("keeps the CLI's encrypted values and salt when the ticket is delivered again with changed data", async () => {
        assert.equal(writeStackFile(temp.project, ALIAS, TICKET, { ...BANK, displayName: "Lviv Bank PJSC" }, "Lviv Bank PJSC"), "updated");
        const text = fs.readFileSync(stackFilePath(temp.project, ALIAS), "utf8");
        assert.equal(recordedTicket(text), TICKET);
        assert.equal(YAML.parse(text).config["dcm-integration:displayName"], "Lviv Bank PJSC");
        const dsn = (await sandbox.pulumi(["config", "get", "dcm-integration:kratosDsn", "-s", ALIAS], workspace)).trim();
        assert.equal(dsn, DSN, "the secret still decrypts with the stack's salt after onboarding rewrote the file");
    });

    it("refuses a wrong passphrase instead of decrypting", async () => {
        const env = { ...sandbox.env, PULUMI_CONFIG_PASSPHRASE: "another-passphrase" };
        await assert.rejects(run(realBinary("pulumi"), ["config", "get", "dcm-integration:kratosDsn", "-s", ALIAS], { cwd: workspace, env }), /passphrase|decrypt/i);
    });
});
