/** Stack outputs to check facts: derived URLs, and a clear error naming each malformed field. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { InputError, InputErrors } from "../../../scripts/lib/checks/errors";
import { stackFacts } from "../../../scripts/lib/checks/outputs";
import { StackMaterial, stackMaterial } from "../../../support/checks/stack";
import { PROJECT_ROOT } from "../../../domain/project";

describe("stackFacts", () => {
    let material: StackMaterial;
    before(async () => {
        material = await stackMaterial();
    });

    it("derives the URLs from the hosts when the URL outputs are absent, and prefers them when present", () => {
        const facts = stackFacts(material.outputs);
        assert.equal(facts.backofficeUrl, "https://backoffice-demo-integrate.dcm.example.com");
        assert.equal(facts.apiUrl, "https://api-demo-integrate.dcm.example.com");
        assert.equal(facts.kratosPublicUrl, "https://backoffice-demo-integrate.dcm.example.com/.ory");
        assert.deepEqual(facts.users.map((u) => [u.entity, u.username]), [["identification", "dcm-demo-identification"], ["processing", "dcm-demo-processing"]]);
        const given = stackFacts({ ...material.outputs, apiUrl: "https://api.example.com:8443/", kratosPublicUrl: "https://b.example.com/auth", tlsCaCertificatePem: "pem" });
        assert.equal(given.apiUrl, "https://api.example.com:8443");
        assert.equal(given.jwksUrl, "https://api-demo-integrate.dcm.example.com/.well-known/jwks.json");
        assert.equal(given.kratosPublicUrl, "https://b.example.com/auth");
        assert.equal(given.tlsCaCertificatePem, "pem");
    });

    const broken: [string, (o: Record<string, unknown>) => void, RegExp][] = [
        ["a missing alias", (o) => delete o.alias, /^outputs\.alias: is missing$/],
        ["a masked secret", (o) => { o.keyKeeperPasswords = "[secret]"; }, /^outputs\.keyKeeperPasswords: is masked .*--show-secrets/],
        ["a masked private key", (o) => { o.signingPrivateKeyPem = "[secret]"; }, /^outputs\.signingPrivateKeyPem: is masked/],
        ["a password map without processing", (o) => { o.keyKeeperPasswords = { identification: "x" }; }, /^outputs\.keyKeeperPasswords\.processing: is missing$/],
        ["an unknown algorithm", (o) => { o.signingAlgorithm = "HS256"; }, /^outputs\.signingAlgorithm: 'HS256' is not one of ES256/],
        ["a host that is not a DNS name", (o) => { o.apiHost = "api_demo"; }, /^outputs\.apiHost: 'api_demo' is not a DNS host name$/],
        ["an http key keeper URL", (o) => { o.keyKeeperUrl = "http://kk.example"; }, /^outputs\.keyKeeperUrl: must be an https URL$/],
        ["a URL with credentials", (o) => { o.apiUrl = "https://u:p@api.example"; }, /^outputs\.apiUrl: must not carry credentials$/],
        ["a public key that is not SPKI", (o) => { o.publicKeyPem = "-----BEGIN CERTIFICATE-----"; }, /^outputs\.publicKeyPem: must be an SPKI PEM/],
        ["a number for a string", (o) => { o.kid = 7; }, /^outputs\.kid: must be a non-empty string$/],
    ];
    for (const [name, mutate, message] of broken) {
        it(`rejects ${name}, naming the field`, () => {
            const o = structuredClone(material.outputs);
            mutate(o);
            assert.throws(() => stackFacts(o), (e: unknown) => e instanceof InputError && message.test(e.message));
        });
    }

    it("rejects key material that is not one key: the private key of another pair, a kid of another key, an algorithm of another type", async () => {
        const other = await stackMaterial();
        const rsa = await stackMaterial("RS256");
        const cases: [Record<string, unknown>, RegExp][] = [
            [{ signingPrivateKeyPem: other.outputs.signingPrivateKeyPem }, /^outputs\.signingPrivateKeyPem: does not match outputs\.publicKeyPem/],
            [{ kid: other.kid }, /^outputs\.kid: is not the RFC 7638 thumbprint of outputs\.publicKeyPem/],
            [{ signingAlgorithm: "ES384" }, /^outputs\.signingAlgorithm: 'ES384' does not suit the prime256v1 key/],
            [{ ...rsa.outputs, signingAlgorithm: "ES256" }, /^outputs\.signingAlgorithm: 'ES256' does not suit the rsa key/],
        ];
        for (const [change, message] of cases) {
            assert.throws(() => stackFacts({ ...material.outputs, ...change }), (e: unknown) => e instanceof InputError && message.test(e.message), String(message));
        }
        // Matching material of every supported type is accepted.
        assert.equal(stackFacts(rsa.outputs).kid, rsa.kid);
        assert.equal(stackFacts((await stackMaterial("ES384")).outputs).signingAlgorithm, "ES384");
    });

    it("reads only outputs the program exports (a renamed output breaks this, not a deployment)", () => {
        const root = PROJECT_ROOT;
        const read = [...fs.readFileSync(path.join(root, "scripts/lib/checks/outputs.ts"), "utf8").matchAll(/\(o, "(\w+)"/g)].map((m) => m[1]);
        const exported = new Set([...fs.readFileSync(path.join(root, "infra/index.ts"), "utf8").matchAll(/^export const (\w+)/gm)].map((m) => m[1]));
        assert.ok(read.length >= 14, read.join(", "));
        assert.deepEqual(read.filter((name) => !exported.has(name)), []);
    });

    it("names every malformed output at once, and only the outputs that are wrong", () => {
        const o = { ...structuredClone(material.outputs), backofficeHost: "Not A Host!", signingAlgorithm: "HS256", kid: 7 };
        assert.throws(() => stackFacts(o), (e: unknown) => e instanceof InputErrors
            && e.problems.map((p) => p.message).join("\n") === [
                "outputs.backofficeHost: 'Not A Host!' is not a DNS host name",
                "outputs.signingAlgorithm: 'HS256' is not one of ES256, ES384, ES512, RS256, PS256",
                "outputs.kid: must be a non-empty string",
            ].join("\n"));
    });

    it("with the stack's name, wants the outputs' alias to be it (a qualified org/project/stack by its last part)", () => {
        assert.throws(() => stackFacts(material.outputs, "lviv"), /: outputs\.alias: is 'demo', not the stack's name 'lviv'/);
        assert.equal(stackFacts(material.outputs, "acme/dcm-integration/demo").alias, "demo");
        assert.equal(stackFacts(material.outputs, "demo").alias, "demo");
    });

    it("treats an empty optional output as absent", () => {
        assert.equal(stackFacts({ ...material.outputs, tlsCaCertificatePem: "" }).tlsCaCertificatePem, undefined);
    });

    it("rejects what is not an object", () => {
        assert.throws(() => stackFacts([]), /outputs: must be a JSON object/);
    });
});
