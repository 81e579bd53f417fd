/**
 * kratos.yml against Ory Kratos v1.3.1's own configuration JSON schema (shared reference data), and the
 * rules the bank needs on top: host-only public URL under /.ory, return URLs limited to the backoffice host,
 * no self-service registration, email as identifier and recovery address.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import * as YAML from "yaml";
import {
    DEV_MODE_DSN, DEV_MODE_SMTP_URI, effectiveConfig, employeeIdentitySchema, KRATOS_PUBLIC_PATH, kratosConfig, KratosConfigOptions,
    kratosPublicUrl, kratosYaml,
} from "../../components/kratos-config";
import { kratosConfigValidator } from "../../support/kratos-schema";

const OPTIONS: KratosConfigOptions = {
    backofficeHost: "backoffice-demo-integrate.dcm.example.com",
    adminBaseUrl: "http://kratos-admin.bank-demo-integrate.svc.cluster.local:4434/",
    fromAddress: "no-reply@dcm.example.com",
    fromName: "Demo Bank backoffice",
};
const SECRETS = {
    dsn: "postgres://kratos:pw@db.dcm.example.com:5432/kratos_demo?sslmode=verify-full",
    secretsDefault: "d".repeat(48),
    secretsCookie: "c".repeat(48),
    secretsCipher: "k".repeat(32),
    smtpConnectionUri: "smtps://mailer:pw@smtp.dcm.example.com:465/",
};

describe("kratos.yml", () => {
    const validate = kratosConfigValidator();

    it("is valid for Kratos v1.3.1 as Kratos assembles it (file plus environment), in production and dev mode", () => {
        const file = YAML.parse(kratosYaml(OPTIONS));
        assert.ok(validate(effectiveConfig(file, SECRETS)), JSON.stringify(validate.errors));
        const dev = effectiveConfig(file, { ...SECRETS, dsn: DEV_MODE_DSN, smtpConnectionUri: DEV_MODE_SMTP_URI });
        assert.ok(validate(dev), JSON.stringify(validate.errors));
    });

    it("is rejected by the schema when a rule Kratos enforces is broken (the check can fail)", () => {
        const file = kratosConfig(OPTIONS);
        assert.equal(validate(effectiveConfig(file, { ...SECRETS, secretsCipher: "k".repeat(31) })), false, "cipher secret of 31 characters");
        assert.equal(validate({ ...effectiveConfig(file, SECRETS), dsn: undefined }), false, "no DSN at all");
        const typo = effectiveConfig(file, SECRETS) as any;
        typo.selfservice.flows.registration.enabeld = false;
        assert.equal(validate(typo), false, "an unknown key");
    });

    it("contains no secret: DSN, secrets and SMTP URI come only from the environment", () => {
        const text = kratosYaml(OPTIONS);
        const file = YAML.parse(text);
        assert.equal(file.dsn, undefined);
        assert.equal(file.secrets, undefined);
        assert.equal(file.courier.smtp.connection_uri, undefined);
        for (const value of Object.values(SECRETS)) assert.ok(!text.includes(value));
    });

    it("serves the public API under /.ory of the backoffice host, with host-only cookies", () => {
        const file = kratosConfig(OPTIONS) as any;
        assert.equal(KRATOS_PUBLIC_PATH, "/.ory");
        assert.equal(file.serve.public.base_url, `https://${OPTIONS.backofficeHost}/.ory`);
        assert.equal(kratosPublicUrl(OPTIONS.backofficeHost), file.serve.public.base_url);
        assert.equal(file.session.cookie.domain, undefined, "a cookie domain would share the session with other hosts");
        assert.equal(file.cookies.domain, undefined);
        assert.ok(!new URL(file.serve.admin.base_url).hostname.endsWith("dcm.example.com"), "the admin URL is in-cluster only");
    });

    it("allows return only to the bank's backoffice host, for every other bank too", () => {
        for (const host of ["backoffice-demo-integrate.dcm.example.com", "backoffice-dnipro-integrate.dcm.example.com"]) {
            const file = kratosConfig({ ...OPTIONS, backofficeHost: host }) as any;
            const urls: string[] = [file.selfservice.default_browser_return_url, ...file.selfservice.allowed_return_urls];
            const uiUrls = Object.values(file.selfservice.flows as Record<string, any>).map((f) => f.ui_url).filter(Boolean);
            for (const u of [...urls, ...uiUrls, file.selfservice.flows.logout.after.default_browser_return_url]) {
                const url = new URL(u);
                assert.equal(url.protocol, "https:");
                assert.equal(url.host, host, `${u} leaves the backoffice host`);
            }
        }
    });

    it("disables self-service registration and enables recovery and settings", () => {
        const flows = (kratosConfig(OPTIONS) as any).selfservice.flows;
        assert.equal(flows.registration.enabled, false);
        assert.equal(flows.recovery.enabled, true);
        assert.ok(flows.settings.ui_url);
    });

    it("offers TOTP and WebAuthn as second factors, and demands the highest enrolled one for sessions and settings", () => {
        for (const host of ["backoffice-demo-integrate.dcm.example.com", "backoffice-dnipro-integrate.dcm.example.com"]) {
            const file = kratosConfig({ ...OPTIONS, backofficeHost: host }) as any;
            const { totp, webauthn } = file.selfservice.methods;
            assert.equal(totp.enabled, true);
            assert.equal(totp.config.issuer, OPTIONS.fromName);
            assert.equal(webauthn.enabled, true);
            assert.equal(webauthn.config.passwordless, false, "a passkey is a second factor here, not a password replacement");
            assert.equal(webauthn.config.rp.id, host, "passkeys bound to this bank's backoffice host only");
            assert.deepEqual(webauthn.config.rp.origins, [`https://${host}`]);
            assert.equal(file.session.whoami.required_aal, "highest_available");
            assert.equal(file.selfservice.flows.settings.required_aal, "highest_available");
        }
        // The schema knows these keys: a misspelt one would be refused (see above), so these are real settings.
        const broken = effectiveConfig(kratosConfig(OPTIONS), SECRETS) as any;
        broken.session.whoami.required_aal = "aal3";
        assert.equal(validate(broken), false, "an AAL Kratos does not know");
    });
});

describe("the employee identity schema", () => {
    it("is a draft-07 schema whose email is the password identifier and the recovery address", () => {
        const schema = employeeIdentitySchema() as any;
        const ajv = new Ajv({ strict: false });
        addFormats(ajv);
        const check = ajv.compile(schema);
        assert.ok(check({ traits: { email: "officer@demo-bank.example" } }));
        assert.equal(check({ traits: { email: "not-an-email" } }), false);
        assert.equal(check({ traits: {} }), false, "email is required");
        assert.equal(check({ traits: { email: "a@b.example", role: "admin" } }), false, "no undeclared trait");
        const email = schema.properties.traits.properties.email["ory.sh/kratos"];
        assert.equal(email.credentials.password.identifier, true);
        assert.equal(email.recovery.via, "email");
    });
});
