/**
 * The Kratos settings: dev mode versus secret DSN and SMTP URI (pure validation), and that the program reads
 * them only as secrets (infra/config.ts under the Pulumi runtime's own config, in process).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { loadSettings } from "../../infra/config";
import { SECRET_PRESENT } from "../../domain/config";
import { secretValueProblem } from "../../domain/rules";
import { validateStackConfig } from "../../infra/validation";
import { PROJECT, validRaw } from "../../support/configs";

const DSN = "postgres://kratos:s3cr3t-pw@db.dcm.example.com:5432/kratos?sslmode=verify-full";
const SMTP = "smtps://mailer:s3cr3t-pw@smtp.dcm.example.com/";
const MIGRATION_DSN = "postgres://kratos_owner:s3cr3t-pw@db.dcm.example.com:5432/kratos?sslmode=verify-full";
/** What a bank outside dev mode sets: the three secrets and the two servers' addresses. */
const PRODUCTION = {
    kratosDevMode: undefined, kratosDsn: DSN, kratosSmtpUri: SMTP, kratosMigrationDsn: MIGRATION_DSN,
    kratosDatabaseCidrs: ["10.42.17.5/32"], kratosSmtpCidrs: ["10.42.18.25/32"],
};
const production = (extra: Record<string, unknown> = {}) => validRaw("dnipro", { ...PRODUCTION, ...extra });
const problemsOf = (raw: Record<string, unknown>) => {
    const r = validateStackConfig(raw, "dnipro");
    return r.ok ? [] : r.problems;
};

describe("Kratos settings", () => {
    it("needs the three secrets and both servers' addresses outside dev mode, and none of them in dev mode", () => {
        assert.deepEqual(problemsOf(production()), []);
        const missing = problemsOf(validRaw("dnipro", { kratosDevMode: "false" }));
        assert.deepEqual(missing.map((p) => p.key).sort(), ["kratosDatabaseCidrs", "kratosDsn", "kratosMigrationDsn", "kratosSmtpCidrs", "kratosSmtpUri"]);
        assert.match(missing.find((p) => p.key === "kratosMigrationDsn")!.message, /is required unless kratosDevMode is true; set it with `pulumi config set --secret/);
        assert.match(missing.find((p) => p.key === "kratosDatabaseCidrs")!.message, /is required; name the server's own addresses/);
        const both = problemsOf(production({ kratosDevMode: "true" }));
        assert.deepEqual(both.map((p) => p.key).sort(), ["kratosDatabaseCidrs", "kratosDsn", "kratosMigrationDsn", "kratosSmtpCidrs", "kratosSmtpUri"]);
        assert.deepEqual(problemsOf(validRaw("dnipro", { kratosDevMode: "yes" })).map((p) => p.key), ["kratosDevMode"]);
        const ok = validateStackConfig(validRaw("dnipro"), "dnipro");
        assert.ok(ok.ok && ok.settings.bank.kratosDevMode);
    });

    it("checks secret values without ever quoting them", () => {
        const cases: [string, string, RegExp][] = [
            ["kratosDsn", "mysql://kratos:s3cr3t-pw@db:3306/k", /PostgreSQL/],
            ["kratosDsn", "postgres://kratos:s3cr3t-pw@db:6432/k", /port 5432/],
            ["kratosDsn", "s3cr3t-pw", /absolute URL/],
            ["kratosSmtpUri", "http://mailer:s3cr3t-pw@smtp/", /smtp:\/\/ or smtps:\/\//],
            ["kratosSmtpUri", "smtp://mailer:s3cr3t-pw@smtp:25/", /port 465 or 587/],
        ];
        for (const [key, value, rule] of cases) {
            const problems = problemsOf(production({ [key]: value }));
            assert.equal(problems.length, 1, `${key}=${value}`);
            assert.equal(problems[0].key, key);
            assert.match(problems[0].message, rule);
            assert.ok(!problems[0].message.includes("s3cr3t"), "a secret in a message");
        }
        assert.equal(secretValueProblem("kratosDsn", SECRET_PRESENT), undefined);
        assert.equal(secretValueProblem("kratosDsn", "offline-placeholder-for-kratosDsn"), undefined, "the offline render's stand-in");
        assert.equal(secretValueProblem("kratosSmtpUri", "smtp://smtp.example:587/"), undefined);
    });

    it("validates the platform's ingress namespace and API server addresses", () => {
        assert.deepEqual(problemsOf(production({ ingressNamespace: "Ingress_Nginx" })).map((p) => p.key), ["ingressNamespace"]);
        assert.deepEqual(problemsOf(production({ apiServerCidr: ["10.0.0.300/32"] })).map((p) => p.key), ["apiServerCidr[0]"]);
        assert.deepEqual(problemsOf(production({ apiServerCidr: ["10.96.0.1/33"] })).map((p) => p.key), ["apiServerCidr[0]"]);
        assert.deepEqual(problemsOf(production({ apiServerCidr: ["172.20.0.10/32"] })), []);
        assert.deepEqual(problemsOf(production({ bootstrapImage: "node:latest" })).map((p) => p.key), ["bootstrapImage"]);
    });
});

describe("reading the Kratos secrets in the program", () => {
    // The Pulumi runtime's config as the CLI hands it over (PULUMI_CONFIG and its secret keys).
    const configure = (values: Record<string, unknown>, secretKeys: string[]) => {
        const config: Record<string, string> = {};
        for (const [k, v] of Object.entries(values)) if (v !== undefined) config[`${PROJECT.name}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
        pulumi.runtime.setAllConfig(config, secretKeys.map((k) => `${PROJECT.name}:${k}`));
        process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(secretKeys.map((k) => `${PROJECT.name}:${k}`));
    };

    it("refuses a DSN or SMTP URI in plain config, naming the key and not the value", async () => {
        await pulumi.runtime.setMocks({ newResource: () => ({ id: "x", state: {} }), call: () => ({}) }, PROJECT.name, "dnipro");
        try {
            configure(production({ signingKeys: undefined }), ["kratosSmtpUri"]);
            assert.throws(() => loadSettings(), (e: Error) => {
                assert.match(e.message, /dcm-integration:kratosDsn must be stored as a secret: pulumi config set --secret kratosDsn/);
                assert.ok(!e.message.includes("s3cr3t"));
                assert.ok(!e.message.includes("kratosSmtpUri must be stored"), "the secret one passes");
                return true;
            });
            configure(production({ signingKeys: undefined }), ["kratosDsn", "kratosSmtpUri", "kratosMigrationDsn"]);
            const settings = loadSettings();
            assert.equal(settings.bank.kratosDevMode, false);
            assert.deepEqual(settings.bank.kratosDatabaseCidrs, ["10.42.17.5/32"], "a YAML list arrives as JSON");
            // `pulumi config set apiServerCidr 10.0.0.1/32,fd00::1/128` stores one plain string.
            configure(production({ signingKeys: undefined, apiServerCidr: "10.0.0.1/32, fd00::1/128" }), ["kratosDsn", "kratosSmtpUri", "kratosMigrationDsn"]);
            assert.deepEqual(loadSettings().platform.apiServerCidr, ["10.0.0.1/32", "fd00::1/128"]);
        } finally {
            delete process.env.PULUMI_CONFIG_SECRET_KEYS;
        }
    });
});
