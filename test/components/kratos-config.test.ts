/**
 * kratos.yml against the own configuration JSON schema of the Kratos release the stack pins (test/fixtures/kratos), and the
 * rules the bank needs on top: host-only public URL under /.ory, return URLs limited to the backoffice host,
 * no self-service registration, email as identifier and recovery address.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import * as YAML from "yaml";
import {
    backofficeSessionAccepted, DEV_MODE_DSN, DEV_MODE_SMTP_URI, effectiveConfig, employeeIdentitySchema, KRATOS_PUBLIC_PATH, kratosConfig, KratosConfigOptions,
    kratosPublicUrl, kratosYaml,
} from "../../components/kratos-config";
import { kratosConfigValidator } from "../../support/kratos-schema";

const OPTIONS: KratosConfigOptions = {
    backofficeHost: "backoffice-demo-integrate.dcm.example.com",
    adminBaseUrl: "http://kratos-admin.bank-demo-integrate.svc.cluster.local:4434/",
    fromAddress: "no-reply@dcm.example.com",
    fromName: "Demo Bank backoffice",
    version: "v26.2.0",
};
const SECRETS = {
    dsn: "postgres://kratos:pw@db.dcm.example.com:5432/kratos_demo?sslmode=verify-full",
    secretsDefault: "d".repeat(48),
    secretsCookie: "c".repeat(48),
    secretsCipher: "k".repeat(32),
    secretsPagination: "p".repeat(48),
    smtpConnectionUri: "smtps://mailer:pw@smtp.dcm.example.com:465/",
};

describe("kratos.yml", () => {
    const validate = kratosConfigValidator();

    it("is valid for the pinned Kratos release as Kratos assembles it (file plus environment), in production and dev mode", () => {
        const file = YAML.parse(kratosYaml(OPTIONS));
        assert.ok(validate(effectiveConfig(file, SECRETS)), JSON.stringify(validate.errors));
        const dev = effectiveConfig(file, { ...SECRETS, dsn: DEV_MODE_DSN, smtpConnectionUri: DEV_MODE_SMTP_URI });
        assert.ok(validate(dev), JSON.stringify(validate.errors));
    });

    it("is rejected by the schema when a rule Kratos enforces is broken (the check can fail)", () => {
        const file = kratosConfig(OPTIONS);
        assert.equal(validate(effectiveConfig(file, { ...SECRETS, secretsCipher: "k".repeat(31) })), false, "cipher secret of 31 characters");
        assert.equal(validate({ ...effectiveConfig(file, SECRETS), dsn: undefined }), false, "no DSN at all");
        assert.equal(validate(effectiveConfig(file, { ...SECRETS, secretsPagination: "p".repeat(15) })), false, "pagination secret of 15 characters");
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

    it("sets the config version to the release it is written for, and a pagination secret from the environment", () => {
        assert.equal((kratosConfig(OPTIONS) as any).version, "v26.2.0");
        assert.equal((kratosConfig({ ...OPTIONS, version: "v26.3.0" }) as any).version, "v26.3.0");
        // Unset, v26.2.0 encrypts page tokens with an all-zero key (GO-2026-4801): the environment always sets it.
        assert.deepEqual((effectiveConfig(kratosConfig(OPTIONS), SECRETS) as any).secrets.pagination, [SECRETS.secretsPagination]);
    });

    it("offers TOTP and WebAuthn as second factors, demands the enrolled one for sessions, and lets settings enrol the first", () => {
        for (const host of ["backoffice-demo-integrate.dcm.example.com", "backoffice-dnipro-integrate.dcm.example.com"]) {
            const file = kratosConfig({ ...OPTIONS, backofficeHost: host }) as any;
            const { totp, webauthn } = file.selfservice.methods;
            assert.equal(totp.enabled, true);
            assert.equal(totp.config.issuer, OPTIONS.fromName);
            assert.equal(webauthn.enabled, true);
            assert.equal(webauthn.config.passwordless, false, "a passkey is a second factor here, not a password replacement");
            assert.equal(webauthn.config.rp.id, host, "passkeys bound to this bank's backoffice host only");
            assert.deepEqual(webauthn.config.rp.origins, [`https://${host}`]);
            // Once a factor is enrolled, whoami refuses a password alone; Kratos has no stricter value (below).
            assert.equal(file.session.whoami.required_aal, "highest_available");
            // Settings at aal2 would lock out an employee with no factor yet: they must be able to enrol one.
            assert.equal(file.selfservice.flows.settings.required_aal, "highest_available");
        }
        // The schema knows these keys: a misspelt one would be refused (see above), so these are real settings.
        const broken = effectiveConfig(kratosConfig(OPTIONS), SECRETS) as any;
        broken.session.whoami.required_aal = "aal3";
        assert.equal(validate(broken), false, "an AAL Kratos does not know");
        // Why the frontend checks the level itself: Kratos refuses whoami at aal2 (test/real/kratos.test.ts: real Kratos too).
        broken.session.whoami.required_aal = "aal2";
        assert.equal(validate(broken), false, "whoami at aal2");
    });

    it("the frontend accepts a whoami answer only for an active employee session with a second factor", () => {
        const session = (aal: string, extra: Record<string, unknown> = {}) => ({ active: true, authenticator_assurance_level: aal, identity: { schema_id: "employee" }, ...extra });
        assert.equal(backofficeSessionAccepted(200, session("aal2")), true);
        assert.equal(backofficeSessionAccepted(200, session("aal1")), false, "a password alone");
        assert.equal(backofficeSessionAccepted(403, session("aal2")), false, "a refused session");
        assert.equal(backofficeSessionAccepted(200, session("aal2", { active: false })), false, "an inactive session");
        assert.equal(backofficeSessionAccepted(200, session("aal2", { identity: { schema_id: "customer" } })), false, "another schema");
        for (const body of [undefined, null, "aal2", {}]) assert.equal(backofficeSessionAccepted(200, body), false);
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
