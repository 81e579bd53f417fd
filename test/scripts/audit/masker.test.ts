/** Masking by knowledge (types, markers, blinds, secret values) and by shape. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { Masker } from "../../../scripts/lib/audit/masker";
import { isSecretName, maskByShape } from "../../../scripts/lib/audit/shapes";

const SECRET_URN = "urn:pulumi:demo::p::kubernetes:core/v1:Secret::s";

describe("masking", () => {
    it("masks Kubernetes Secret data and stringData by type, keeping keys", () => {
        const m = new Masker();
        const masked = m.mask(SECRET_URN, "kubernetes:core/v1:Secret", "", { metadata: { name: "s" }, stringData: { "a.password": "hunter2hunter2" }, data: { k: "aGVsbG8=" } });
        assert.deepEqual(masked, { metadata: { name: "s" }, stringData: { "a.password": "[secret]" }, data: { k: "[secret]" } });
    });

    it("learns secret paths from $secret markers and [secret] blinds, and masks the values wherever else they appear", () => {
        const m = new Masker();
        const pw = "Zx9-secret-value-from-a-marker";
        m.learn("urn:a", "custom:T", { token: { $secret: pw }, nested: { blinded: "[secret]" } });
        assert.ok(m.isSecretPath("urn:a", "custom:T", "token"));
        assert.ok(m.isSecretPath("urn:other", "custom:T", "nested.blinded"), "a blinded path is secret for the whole type");
        assert.equal(m.mask("urn:b", "custom:U", "env", `PASS=${pw};`), "PASS=[secret];");
        assert.equal(m.scrub(`base64: ${Buffer.from(pw).toString("base64")}`), "base64: [secret]");
        assert.equal(m.mask("urn:a", "custom:T", "nested.blinded", "plain-now-with-show-secrets"), "[secret]");
    });

    it("masks the fields additionalSecretOutputs names and the values under them", () => {
        const m = new Masker();
        m.learn("urn:k", "custom:Key", { material: "k3y-material-0123456789" }, ["material"]);
        assert.equal(m.mask("urn:k", "custom:Key", "material", "k3y-material-0123456789"), "[secret]");
        assert.equal(m.scrub("see k3y-material-0123456789"), "see [secret]");
    });

    it("masks by shape: private keys, JWTs, URL credentials, bearer tokens, key=value secrets", () => {
        const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
        const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        assert.equal(maskByShape(`key:\n${pem}tail`), "key:\n[secret]\ntail");
        assert.equal(maskByShape("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"), "[secret]");
        assert.equal(maskByShape("postgres://kratos:s3cr3t@db:5432/k"), "postgres://kratos:[secret]@db:5432/k");
        assert.equal(maskByShape("Authorization: Bearer abcdefghijklmnop"), "Authorization: Bearer [secret]");
        assert.equal(maskByShape("user=a password=xyz123 host=b"), "user=a password=[secret] host=b");
        assert.equal(maskByShape("registry.example.com/frontend:1.5.0"), "registry.example.com/frontend:1.5.0", "ordinary values untouched");
    });

    it("treats fields named like secrets as secret, but not references to secrets", () => {
        for (const k of ["adminPassword", "apiToken", "client_secret", "privateKeyPem", "keyKeeperPasswords"]) assert.ok(isSecretName(k), k);
        for (const k of ["secretName", "passwordLength", "tokenUrl", "secretKeyRef", "kid", "publicKeyPem", "image"]) assert.ok(!isSecretName(k), k);
        for (const k of ["dsn", "KRATOS_DSN", "kratosDsn"]) assert.ok(isSecretName(k), k);
        const m = new Masker();
        assert.deepEqual(m.mask("urn:x", "custom:T", "", { adminPassword: "p", secretName: "s" }), { adminPassword: "[secret]", secretName: "s" });
    });

    it("masks the value of a { name, value } pair whose name looks secret (container env), and nothing else of it", () => {
        const m = new Masker();
        const env = [{ name: "SMTP_PASSWORD", value: "hunter2-plain" }, { name: "KRATOS_DSN", value: "sqlite:///tmp/x" }, { name: "LOG_LEVEL", value: "debug" }, { name: "SMTP_PASSWORD_FILE", value: "/run/secrets/smtp" }];
        assert.deepEqual(m.mask("urn:d", "kubernetes:apps/v1:Deployment", "spec.env", env), [
            { name: "SMTP_PASSWORD", value: "[secret]" }, { name: "KRATOS_DSN", value: "[secret]" }, { name: "LOG_LEVEL", value: "debug" }, { name: "SMTP_PASSWORD_FILE", value: "/run/secrets/smtp" },
        ]);
        const root = { spec: { env } };
        assert.ok(m.isSecretPathIn("urn:d", "t", "spec.env[0].value", [undefined, root]), "found through the state");
        assert.ok(!m.isSecretPathIn("urn:d", "t", "spec.env[2].value", [root]));
        assert.ok(!m.isSecretPathIn("urn:d", "t", "spec.env[0].name", [root]), "the name is shown");
    });

    it("never masks URNs or type tokens in free text, only the values beside them", () => {
        const m = new Masker();
        m.addSecretValue("s3cr3t-value-xyz");
        const urn = "urn:pulumi:dnipro::dcm-integration::dcm:integration:Kratos$random:index/randomPassword:RandomPassword::kratos-secret-cipher";
        assert.equal(m.scrub(`error: ${urn} failed: password=hunter22 and s3cr3t-value-xyz`), `error: ${urn} failed: password=[secret] and [secret]`);
        assert.equal(m.scrub("type random:index/randomPassword:RandomPassword, token: abcdefgh"), "type random:index/randomPassword:RandomPassword, token: [secret]");
    });

    it("learns the secrets of a secret map but not the public values kept beside them (kid, usernames, public keys)", () => {
        const { publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
        const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
        const m = new Masker();
        m.learn("urn:s", "kubernetes:core/v1:Secret", {
            stringData: { $secret: { kid: "kid-2mU1X3qvR0yO1Ue0wqKJbHk", "identification.username": "dcm-dnipro-identification", "identification.password": "pw-Zq8-not-public", "public.pem": pem } },
        });
        const elsewhere = `kid-2mU1X3qvR0yO1Ue0wqKJbHk dcm-dnipro-identification ${pem.split("\n")[1]}`;
        assert.equal(m.scrub(elsewhere), elsewhere, "public values are shown where else they appear");
        assert.equal(m.scrub("pw-Zq8-not-public"), "[secret]");
        assert.deepEqual(m.mask("urn:s", "kubernetes:core/v1:Secret", "stringData", { kid: "kid-2mU1X3qvR0yO1Ue0wqKJbHk" }), { kid: "[secret]" }, "in the Secret itself, still masked");
        const single = new Masker();
        single.learn("urn:x", "custom:T", { username: { $secret: "marked-secret-username" } });
        assert.equal(single.scrub("marked-secret-username"), "[secret]", "a value marked secret by itself is secret, whatever its key");
    });
});
