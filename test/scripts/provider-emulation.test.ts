/** The provider emulation behaves like the real providers where the program depends on it. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { emulate, randomStringLike, tlsPrivateKey } from "../../scripts/lib/engine/provider-emulation";
import { isSecretValue } from "../../domain/secret-values";

describe("random provider emulation", () => {
    it("honours length, disabled classes, minimums and overrideSpecial", () => {
        for (let i = 0; i < 200; i++) {
            const s = randomStringLike({ length: 12, upper: false, overrideSpecial: "-_", minSpecial: 3, minNumeric: 2 });
            assert.equal(s.length, 12);
            assert.match(s, /^[a-z0-9_-]+$/);
            assert.ok((s.match(/[-_]/g) ?? []).length >= 3);
            assert.ok((s.match(/[0-9]/g) ?? []).length >= 2);
        }
    });

    it("draws from the whole alphabet (not a fixed string)", () => {
        const seen = new Set(Array.from({ length: 50 }, () => randomStringLike({ length: 32 })));
        assert.equal(seen.size, 50);
        const chars = new Set([...Array.from({ length: 100 }, () => randomStringLike({ length: 40, special: false })).join("")]);
        assert.ok(chars.size > 55, `only ${chars.size} distinct characters`);
    });

    it("rejects an impossible request with the provider's rule", () => {
        assert.throws(() => randomStringLike({ length: 0 }), /length must be a positive integer/);
        assert.throws(() => randomStringLike({ length: 5, upper: false, lower: false, numeric: false, special: false }), /every character class is disabled/);
    });
});

describe("tls provider emulation", () => {
    it("generates real ECDSA keys on the requested curve, in every format the provider returns", () => {
        const key = tlsPrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P384" });
        assert.match(key.privateKeyPem as string, /^-----BEGIN EC PRIVATE KEY-----/);
        assert.match(key.privateKeyPemPkcs8 as string, /^-----BEGIN PRIVATE KEY-----/);
        const pub = crypto.createPublicKey(key.publicKeyPem as string);
        assert.equal(pub.asymmetricKeyDetails?.namedCurve, "secp384r1");
        const derived = crypto.createPublicKey(crypto.createPrivateKey(key.privateKeyPem as string)).export({ type: "spki", format: "pem" });
        assert.equal(derived, key.publicKeyPem, "public and private key belong together");
        assert.match(key.publicKeyOpenssh as string, /^ecdsa-sha2-nistp384 [A-Za-z0-9+/=]+\n$/);
        assert.match(key.publicKeyFingerprintSha256 as string, /^SHA256:[A-Za-z0-9+/]{43}$/);
    });

    it("defaults to the provider's own defaults: P224 for ECDSA, 2048 bits for RSA", () => {
        assert.equal(crypto.createPublicKey(tlsPrivateKey({ algorithm: "ECDSA" }).publicKeyPem as string).asymmetricKeyDetails?.namedCurve, "secp224r1");
        const rsa = tlsPrivateKey({ algorithm: "RSA" });
        assert.equal(crypto.createPublicKey(rsa.publicKeyPem as string).asymmetricKeyDetails?.modulusLength, 2048);
        assert.match(rsa.privateKeyPem as string, /^-----BEGIN RSA PRIVATE KEY-----/);
    });
});

describe("secret marking", () => {
    it("marks exactly the outputs the SDK declares secret (additionalSecretOutputs)", () => {
        const result = emulate({
            type: "random:index/randomPassword:RandomPassword", name: "p", custom: true,
            inputs: { length: 40 }, secretOutputs: ["result", "bcryptHash"],
        });
        assert.ok(isSecretValue(result.state.result));
        assert.equal(isSecretValue(result.state.length), false);
        const plain = emulate({ type: "random:index/randomString:RandomString", name: "s", custom: true, inputs: { length: 8 }, secretOutputs: [] });
        assert.equal(typeof plain.state.result, "string");
    });

    it("auto-names Kubernetes objects without a name, as the provider does", () => {
        const named = emulate({ type: "kubernetes:core/v1:ConfigMap", name: "cfg", custom: true, inputs: { metadata: { namespace: "ns" } }, secretOutputs: [] });
        const meta = named.state.metadata as { name: string };
        assert.match(meta.name, /^cfg-[a-z0-9]{8}$/);
        assert.equal(named.id, `ns/${meta.name}`);
    });
});
