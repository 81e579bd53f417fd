/**
 * JwtSigningKey built directly, under Pulumi's mock runtime: the key-size rule holds on the component itself,
 * not only in the stack's config validation, and the key type follows the algorithm.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { JwtSigningKey } from "../../components/jwt-signing-key";
import { Registered, setMocks, settle, valueOf } from "../../support/pulumi-mocks";

const PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
const CURVES: Record<string, string> = { P256: "prime256v1", P384: "secp384r1", P521: "secp521r1" };
let registered: Registered[] = [];

before(async () => {
    registered = await setMocks({
        [PRIVATE_KEY]: (inputs) => {
            // A real key of the asked type, so the component's JWK and kid are computed from real PEM.
            const pair = inputs.algorithm === "RSA"
                ? crypto.generateKeyPairSync("rsa", { modulusLength: inputs.rsaBits })
                : crypto.generateKeyPairSync("ec", { namedCurve: CURVES[inputs.ecdsaCurve] });
            return {
                ...inputs,
                publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
                privateKeyPemPkcs8: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
            };
        },
    });
});
const keysOf = (name: string) => registered.filter((r) => r.type === PRIVATE_KEY && r.name === `${name}-keypair`);

describe("JwtSigningKey", () => {
    for (const [algorithm, bits] of [["RS256", 2048], ["PS256", 3071], ["RS256", 0], ["PS256", Number.NaN], ["RS256", 3072.5]] as const) {
        it(`refuses ${algorithm} with rsaBits ${bits}, naming the component and the rule, and creates no key`, async () => {
            const name = `weak-${algorithm}-${String(bits).replace(/\W/g, "_")}`;
            assert.throws(() => new JwtSigningKey(name, { algorithm, rsaBits: bits, protect: false }), (e: Error) => {
                assert.ok(e instanceof pulumi.ResourceError, `a ResourceError, got ${e.name}`);
                assert.match(e.message, new RegExp(`^JwtSigningKey ${name}: rsaBits must be a whole number of at least 3072, got ${bits}$`));
                return true;
            });
            await settle();
            assert.deepEqual(keysOf(name), []);
        });
    }

    it("gives an RSA key 3072 bits when no size is named, and accepts 3072", async () => {
        const key = new JwtSigningKey("rsa-default", { algorithm: "PS256", protect: false });
        const jwk = await valueOf(key.publicJwk);
        assert.equal(jwk.kty, "RSA");
        assert.equal(Buffer.from(jwk.n!, "base64url").length * 8, 3072);
        assert.deepEqual(keysOf("rsa-default").map((r) => r.inputs), [{ algorithm: "RSA", rsaBits: 3072 }]);
        assert.doesNotThrow(() => new JwtSigningKey("rsa-3072", { algorithm: "RS256", rsaBits: 3072, protect: false }));
    });

    it("signs with ES256 on P-256 by default, and ES512 uses P-521; the JWK names alg and use sig", async () => {
        const byDefault = new JwtSigningKey("default", {});
        assert.equal(byDefault.algorithm, "ES256");
        const jwk = await valueOf(byDefault.publicJwk);
        assert.deepEqual([jwk.kty, jwk.crv, jwk.alg, jwk.use], ["EC", "P-256", "ES256", "sig"]);
        assert.equal(await valueOf(byDefault.kid), jwk.kid);
        assert.deepEqual(keysOf("default").map((r) => r.inputs), [{ algorithm: "ECDSA", ecdsaCurve: "P256" }]);
        const es512 = new JwtSigningKey("es512", { algorithm: "ES512" });
        assert.equal((await valueOf(es512.publicJwk)).crv, "P-521");
    });

    it("ignores rsaBits for an EC algorithm and always names the curve (the provider's default is P-224)", async () => {
        const key = new JwtSigningKey("ec", { algorithm: "ES384", rsaBits: 1024 });
        assert.equal((await valueOf(key.publicJwk)).crv, "P-384");
        assert.deepEqual(keysOf("ec").map((r) => r.inputs), [{ algorithm: "ECDSA", ecdsaCurve: "P384" }]);
    });
});
