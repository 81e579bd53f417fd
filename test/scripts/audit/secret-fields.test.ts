/**
 * The audit's table of secret fields (scripts/lib/audit/secret-fields.ts) against the program: every secret
 * marker of real offline renders (each TLS mode, EC and RSA keys) is listed, and the lookup finds what is listed.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { knownSecretFields, SECRET_FIELDS, unlistedSecretFields } from "../../../scripts/lib/audit/secret-fields";
import { render, Rendered } from "../../../support/render";

/** Renders that together create every resource type the program can: each TLS mode, a rotation with RSA. */
const RENDERS = {
    "demo, cert-manager": { stack: "demo" },
    "demo, self-signed": { stack: "demo", overrides: { tlsMode: "self-signed" } },
    "demo, provided": { stack: "demo", overrides: { tlsMode: "provided", tlsSecretName: "bank-tls" } },
    "dnipro, rotation with RS256": {
        stack: "dnipro",
        overrides: { signingKeys: [{ slot: "a", algorithm: "ES256" }, { slot: "b", algorithm: "RS256" }], activeSigningKey: "b" },
    },
};

describe("SECRET_FIELDS against the program's secret markers", () => {
    const renders = new Map<string, Rendered>();
    before(async () => {
        const done = await Promise.all(Object.entries(RENDERS).map(async ([name, options]) => [name, await render(options)] as const));
        for (const [name, r] of done) renders.set(name, r);
    });

    for (const name of Object.keys(RENDERS)) {
        it(`${name}: every field the program marks secret is listed`, () => {
            const r = renders.get(name)!;
            assert.ok(r.resources.length > 20, `a whole stack was rendered: ${r.resources.length} resources`);
            assert.deepEqual(unlistedSecretFields(r.resources), []);
        });
    }

    it("the self-signed render holds the TLS types the table lists, so their entries are checked", () => {
        const types = new Set(renders.get("demo, self-signed")!.resources.map((r) => r.type));
        for (const t of ["tls:index/selfSignedCert:SelfSignedCert", "tls:index/certRequest:CertRequest", "tls:index/locallySignedCert:LocallySignedCert"]) {
            assert.ok(types.has(t), `${t} rendered`);
        }
    });
});

describe("unlistedSecretFields", () => {
    const marked = (v: unknown) => ({ $secret: v });

    it("finds a marker on a field the table does not list, however deep, once per type and field", () => {
        const resources = [
            { type: "kubernetes:core/v1:ConfigMap", outputs: { data: { "a.yaml": marked("x") } } },
            { type: "kubernetes:core/v1:ConfigMap", outputs: { data: { "b.yaml": marked("y") } } },
            { type: "dcm:integration:Unknown", outputs: { nested: [{ deep: { deeper: marked("z") } }] } },
            { type: "random:index/randomPassword:RandomPassword", outputs: { keepers: marked({ a: "1" }) } },
        ];
        assert.deepEqual(unlistedSecretFields(resources), [
            "dcm:integration:Unknown.nested",
            "kubernetes:core/v1:ConfigMap.data",
            "random:index/randomPassword:RandomPassword.keepers",
        ]);
    });

    it("passes listed fields, plain values and objects that merely contain a $secret key among others", () => {
        const resources = [
            { type: "random:index/randomPassword:RandomPassword", outputs: { result: marked("p"), bcryptHash: marked("h"), length: 48 } },
            { type: "pulumi:pulumi:Stack", outputs: { keyKeeperPasswords: marked({ identification: "p" }), alias: "demo" } },
            { type: "kubernetes:core/v1:ConfigMap", outputs: { data: { $secret: "not a marker", other: "x" } } },
        ];
        assert.deepEqual(unlistedSecretFields(resources), []);
    });

    it("knownSecretFields gives a listed type's fields and nothing for any other type", () => {
        for (const [type, fields] of Object.entries(SECRET_FIELDS)) assert.deepEqual(knownSecretFields(type), fields);
        assert.deepEqual(knownSecretFields("kubernetes:core/v1:ConfigMap"), []);
        // A preview names its own types: one named after an Object.prototype member finds nothing either.
        for (const type of ["constructor", "toString", "__proto__", "hasOwnProperty"]) assert.deepEqual(knownSecretFields(type), [], type);
    });
});
