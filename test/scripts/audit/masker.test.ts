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
        const m = new Masker();
        assert.deepEqual(m.mask("urn:x", "custom:T", "", { adminPassword: "p", secretName: "s" }), { adminPassword: "[secret]", secretName: "s" });
    });
});
