/**
 * A reproducible render (`--seed`) through the real program: byte-identical for one seed, different for another,
 * random without one, and its generated material valid (the published JWK verifies the signing key's signatures,
 * passwords as the program asks for them).
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { before, describe, it } from "node:test";
import { manifestsYaml, maskForDisplay } from "../../scripts/lib/engine/manifests";
import { unwrapSecrets } from "../../domain/secret-values";
import { byType, render, type Rendered } from "../../support/render";

const STACK = "demo";
const files = (r: Rendered, seed?: string) => `${manifestsYaml(r.resources, seed)}${JSON.stringify(maskForDisplay(r.outputs))}`;
const plain = (v: unknown) => unwrapSecrets(v) as Record<string, unknown>;

describe("render --seed", () => {
    let s1: Rendered, s1again: Rendered, s2: Rendered, random1: Rendered, random2: Rendered;

    before(async () => {
        // Two at a time: each render is a Node process. Fresh ones: a cached render would be the same by construction.
        [s1, s1again] = await Promise.all([render({ stack: STACK, seed: "s1", fresh: true }), render({ stack: STACK, seed: "s1", fresh: true })]);
        [s2, random1] = await Promise.all([render({ stack: STACK, seed: "s2", fresh: true }), render({ stack: STACK, fresh: true })]);
        random2 = await render({ stack: STACK, fresh: true });
    });

    it("gives byte-identical files for the same seed, down to every unmasked recorded value", () => {
        assert.equal(files(s1, "s1"), files(s1again, "s1"));
        assert.equal(JSON.stringify(s1.resources), JSON.stringify(s1again.resources), "passwords, keys, ids and uids too");
        assert.match(manifestsYaml(s1.resources, "s1"), /^# REPRODUCIBLE RENDER, NOT FOR DEPLOYMENT: .*seed "s1"/);
    });

    it("gives other material for another seed, and random material without one", () => {
        assert.notEqual(plain(s1.outputs).kid, plain(s2.outputs).kid);
        assert.notEqual(plain(random1.outputs).kid, plain(random2.outputs).kid);
        const passwords = (r: Rendered) => byType(r, "random:index/randomPassword:RandomPassword").map((p) => plain(p.outputs).result);
        for (const [a, b] of [[s1, s2], [random1, random2]]) {
            const [pa, pb] = [passwords(a), passwords(b)];
            assert.ok(pa.length > 0 && pa.every((p, i) => p !== pb[i]), "every password differs");
        }
        assert.doesNotMatch(manifestsYaml(random1.resources), /REPRODUCIBLE/);
    });

    it("publishes a JWK that verifies what the seeded signing key signs, with the kid its thumbprint", async () => {
        const outputs = plain(s1.outputs) as { signingPrivateKeyPem: string; publicJwk: crypto.JsonWebKey & { kid: string }; kid: string };
        const data = Buffer.from("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkY20ifQ");
        const signature = crypto.sign("sha256", data, crypto.createPrivateKey(outputs.signingPrivateKeyPem));
        const { kid, alg, use, ...jwk } = outputs.publicJwk;
        void alg; void use;
        assert.ok(crypto.verify("sha256", data, crypto.createPublicKey({ key: jwk, format: "jwk" }), signature));
        const jose = await import("jose");
        assert.equal(kid, await jose.calculateJwkThumbprint(jwk as Parameters<typeof jose.calculateJwkThumbprint>[0], "sha256"));
        assert.equal(outputs.kid, kid);
    });

    it("gives every seeded password the length and character classes its resource asks for", () => {
        const all = byType(s1, "random:index/randomPassword:RandomPassword");
        assert.ok(all.length >= 3);
        for (const p of all) {
            const inputs = plain(p.inputs) as { length: number; special?: boolean; overrideSpecial?: string; minLower?: number; minUpper?: number; minNumeric?: number; minSpecial?: number };
            const result = String(plain(p.outputs).result);
            assert.equal(result.length, inputs.length, p.name);
            const special = inputs.special === false ? "" : (inputs.overrideSpecial ?? "!@#$%&*()-_=+[]{}<>:?");
            assert.ok([...result].every((c) => /[A-Za-z0-9]/.test(c) || special.includes(c)), `${p.name}: a character outside its alphabet`);
            const count = (test: (c: string) => boolean) => [...result].filter(test).length;
            assert.ok(count((c) => /[a-z]/.test(c)) >= (inputs.minLower ?? 0), `${p.name}: minLower`);
            assert.ok(count((c) => /[A-Z]/.test(c)) >= (inputs.minUpper ?? 0), `${p.name}: minUpper`);
            assert.ok(count((c) => /[0-9]/.test(c)) >= (inputs.minNumeric ?? 0), `${p.name}: minNumeric`);
            assert.ok(count((c) => special.includes(c)) >= (inputs.minSpecial ?? 0), `${p.name}: minSpecial`);
        }
    });
});
