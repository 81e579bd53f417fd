/** Seeded generated material: reproducible from (seed, URN, purpose), independent otherwise, and valid key material. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { ecKeyPairFrom, ed25519KeyPairFrom, RANDOM_MATERIAL, rsaKeyPairFrom, seededMaterial, SEEDED_EPOCH, uuidFrom } from "../../scripts/lib/engine/generated-material";
import { emulate, tlsPrivateKey } from "../../scripts/lib/engine/provider-emulation";
import { unwrapSecrets } from "../../domain/secret-values";

const URN = "urn:pulumi:demo::dcm-integration::dcm:integration:KeyKeeperSecrets$random:index/randomPassword:RandomPassword::key-keeper-identification";
const bytes = (seed: string, urn: string, purpose: string) => seededMaterial(seed, urn).entropy(purpose).bytes(64).toString("hex");

/** A signature by the private key that the public key (through its exported JWK, as published) verifies. */
function signsAndVerifies(keys: crypto.KeyPairKeyObjectResult): boolean {
    const data = Buffer.from("a DCM-signed JWT's signing input");
    const hash = keys.privateKey.asymmetricKeyType === "ed25519" ? null : "sha256";
    const signature = crypto.sign(hash, data, keys.privateKey);
    const published = crypto.createPublicKey({ key: keys.publicKey.export({ format: "jwk" }), format: "jwk" });
    return crypto.verify(hash, data, published, signature) && !crypto.verify(hash, Buffer.from("something else"), published, signature);
}

describe("seeded material", () => {
    it("is the same for the same seed, URN and purpose, and changes with any of them", () => {
        assert.equal(bytes("s", URN, "result"), bytes("s", URN, "result"));
        const variants = [bytes("s", URN, "result"), bytes("t", URN, "result"), bytes("s", `${URN}2`, "result"), bytes("s", URN, "id")];
        assert.equal(new Set(variants).size, variants.length);
    });

    it("draws uniform integers in range and a v4 UUID", () => {
        const entropy = seededMaterial("s", URN).entropy("result");
        const counts = new Array(7).fill(0);
        for (let i = 0; i < 7000; i++) counts[entropy.randomInt(7)]++;
        // 1000 expected per value; 6 standard deviations (~28) either side would be a broken sampler.
        assert.ok(counts.every((c) => c > 830 && c < 1170), `counts ${counts.join(", ")}`);
        assert.match(uuidFrom(entropy), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.throws(() => entropy.randomInt(0), /max must be an integer/);
    });

    it("makes EC keys on P-256, P-384 and P-521 whose public JWK verifies the private key's signatures", () => {
        for (const curve of ["prime256v1", "secp384r1", "secp521r1"]) {
            for (const seed of ["a", "b", "c"]) {
                const keys = ecKeyPairFrom(seededMaterial(seed, URN).entropy("key"), curve);
                assert.equal(keys.privateKey.asymmetricKeyDetails?.namedCurve, curve);
                assert.ok(signsAndVerifies(keys), `${curve} seed ${seed}`);
                const again = ecKeyPairFrom(seededMaterial(seed, URN).entropy("key"), curve);
                assert.equal(again.privateKey.export({ format: "jwk" }).d, keys.privateKey.export({ format: "jwk" }).d, "same seed, same key");
            }
        }
        assert.throws(() => ecKeyPairFrom(seededMaterial("a", URN).entropy("key"), "secp224r1"), /seeded render makes ECDSA keys on P-256, P-384, P-521, not secp224r1/);
    });

    it("makes Ed25519 and RSA keys that sign and verify, the same for the same seed", () => {
        const ed = ed25519KeyPairFrom(seededMaterial("a", URN).entropy("key"));
        assert.ok(signsAndVerifies(ed));
        const rsa = rsaKeyPairFrom(seededMaterial("a", URN).entropy("key"), 2048);
        assert.equal(rsa.privateKey.asymmetricKeyDetails?.modulusLength, 2048);
        assert.equal(rsa.privateKey.asymmetricKeyDetails?.publicExponent, 65537n);
        assert.ok(signsAndVerifies(rsa));
        const again = rsaKeyPairFrom(seededMaterial("a", URN).entropy("key"), 2048);
        assert.equal(again.publicKey.export({ format: "jwk" }).n, rsa.publicKey.export({ format: "jwk" }).n);
    });

    it("gives the tls emulation reproducible keys in every format, and random ones without a seed", () => {
        const seeded = (seed: string) => tlsPrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" }, seededMaterial(seed, URN));
        assert.deepEqual(seeded("a"), seeded("a"));
        assert.notEqual(seeded("a").publicKeyPem, seeded("b").publicKeyPem);
        const key = seeded("a");
        const derived = crypto.createPublicKey(crypto.createPrivateKey(String(key.privateKeyPemPkcs8))).export({ type: "spki", format: "pem" });
        assert.equal(derived, key.publicKeyPem, "public and private key belong together");
        assert.notEqual(tlsPrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" }, RANDOM_MATERIAL).publicKeyPem, tlsPrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" }).publicKeyPem);
        assert.equal(seededMaterial("a", URN).now().getTime(), SEEDED_EPOCH.getTime());
    });

    it("gives seeded passwords the length, alphabet and minimums the program asks for", () => {
        // The program's two kinds of password (components/key-keeper-secrets.ts, components/kratos.ts).
        const asks = [
            { inputs: { length: 32, special: true, overrideSpecial: "-_.~", minLower: 2, minUpper: 2, minNumeric: 2, minSpecial: 1 }, alphabet: /^[A-Za-z0-9._~-]+$/, min: [[/[a-z]/g, 2], [/[A-Z]/g, 2], [/[0-9]/g, 2], [/[-_.~]/g, 1]] },
            { inputs: { length: 48, special: false, minLower: 4, minUpper: 4, minNumeric: 4 }, alphabet: /^[A-Za-z0-9]+$/, min: [[/[a-z]/g, 4], [/[A-Z]/g, 4], [/[0-9]/g, 4]] },
        ] as const;
        for (const ask of asks) {
            const results = new Set<string>();
            for (let i = 0; i < 100; i++) {
                const state = unwrapSecrets(emulate({
                    type: "random:index/randomPassword:RandomPassword", name: "p", inputs: ask.inputs, custom: true, secretOutputs: ["result"],
                    material: seededMaterial(`seed-${i}`, URN),
                }).state) as { result: string };
                assert.equal(state.result.length, ask.inputs.length);
                assert.match(state.result, ask.alphabet);
                for (const [re, n] of ask.min) assert.ok((state.result.match(re) ?? []).length >= n, `${state.result} has fewer than ${n} of ${re}`);
                results.add(state.result);
            }
            assert.equal(results.size, 100, "every seed its own password");
        }
    });
});
