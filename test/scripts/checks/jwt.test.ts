/**
 * DCM's token and its forgeries, checked with jose as a correct verifier would: the valid token passes;
 * each forgery differs from it in exactly the way its name says.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as jose from "jose";
import { dcmToken, DCM_ISSUER, FOREIGN_KEY_URL, FORGERIES, forgedToken, keyUrl, TOKEN_LIFETIME_S } from "../../../scripts/lib/checks/jwt";
import { StackFacts, stackFacts } from "../../../scripts/lib/checks/outputs";
import { stackMaterial } from "../../../support/checks/stack";

const header = (t: string) => jose.decodeProtectedHeader(t);
const claims = (t: string) => jose.decodeJwt(t);

// RSA keys are covered by the reference key keeper's tests (RS256).
for (const alg of ["ES256", "ES384"] as const) {
    describe(`tokens for a ${alg} stack`, () => {
        let facts: StackFacts;
        let publicKey: Awaited<ReturnType<typeof jose.importSPKI>>;
        before(async () => {
            facts = stackFacts((await stackMaterial(alg)).outputs);
            publicKey = await jose.importSPKI(facts.publicKeyPem, alg);
        });

        const verify = (t: string, options: jose.JWTVerifyOptions = {}) =>
            jose.jwtVerify(t, publicKey, { algorithms: [alg], issuer: DCM_ISSUER, audience: facts.alias, ...options });

        it("DCM's token verifies with the stack's public key: alg, kid, iss, aud, exp within 5 minutes, a fresh jti", async () => {
            const t = await dcmToken(facts);
            const { payload, protectedHeader } = await verify(t);
            assert.equal(protectedHeader.alg, alg);
            assert.equal(protectedHeader.kid, facts.kid);
            assert.ok(payload.exp! - payload.iat! === TOKEN_LIFETIME_S && TOKEN_LIFETIME_S <= 300);
            assert.notEqual(claims(await dcmToken(facts)).jti, payload.jti);
        });

        it("DCM's token names its target (htm GET, htu the key keeper's GET /key URL without query) and lives at most 60 s", async () => {
            const { payload } = await verify(await dcmToken(facts));
            assert.equal(payload.htm, "GET");
            assert.equal(payload.htu, keyUrl(facts));
            assert.equal(keyUrl({ keyKeeperUrl: "https://kk.bank.example/api?x=1" }), "https://kk.bank.example/api/key");
            assert.ok(payload.exp! - payload.iat! <= 60, `lifetime ${payload.exp! - payload.iat!} s: a token is made right before its one request`);
        });

        it("each forgery fails a correct verification, and only for its own reason", async () => {
            const t = Object.fromEntries(await Promise.all(FORGERIES.map(async (f) => [f, await forgedToken(f, facts)] as const)));
            assert.equal(t["no-token"], undefined);
            assert.equal(header(t["alg-none"]!).alg, "none");
            assert.ok(t["alg-none"]!.endsWith("."));
            assert.equal(header(t["hs256-confusion"]!).alg, "HS256");
            // The HS256 token is valid if the public key is taken as an HMAC secret: the confusion it tests.
            await jose.jwtVerify(t["hs256-confusion"]!, new TextEncoder().encode(facts.publicKeyPem), { algorithms: ["HS256"] });
            await assert.rejects(verify(t["tampered-signature"]!), jose.errors.JWSSignatureVerificationFailed);
            await assert.rejects(verify(t["other-key"]!), jose.errors.JWSSignatureVerificationFailed);
            // ...but it verifies with the key in its own header.
            await jose.jwtVerify(t["other-key"]!, jose.EmbeddedJWK);
            await assert.rejects(verify(t.expired!), jose.errors.JWTExpired);
            await verify(t.expired!, { currentDate: new Date(Date.now() - 180_000) });
            await assert.rejects(verify(t["not-yet-valid"]!), /nbf/);
            await verify(t["not-yet-valid"]!, { currentDate: new Date(Date.now() + 180_000) });
            await assert.rejects(verify(t["wrong-audience"]!), /aud/);
            await verify(t["wrong-audience"]!, { audience: claims(t["wrong-audience"]!).aud as string });
            await assert.rejects(verify(t["wrong-issuer"]!), /iss/);
            await verify(t["wrong-issuer"]!, { issuer: claims(t["wrong-issuer"]!).iss });
            // Signed with the real key: only the kid is wrong.
            assert.notEqual(header(t["unknown-kid"]!).kid, facts.kid);
            await verify(t["unknown-kid"]!);
            // Unsigned, with "none" in other spellings.
            for (const [kind, spelling] of [["alg-none-uppercase", "NONE"], ["alg-none-capitalized", "None"]] as const) {
                assert.equal(header(t[kind]!).alg, spelling);
                assert.ok(t[kind]!.endsWith("."));
                assert.deepEqual(claims(t[kind]!).aud, facts.alias);
            }
            // DCM's valid token without its signature.
            assert.ok(t["empty-signature"]!.endsWith("."));
            assert.equal(header(t["empty-signature"]!).alg, alg);
            await assert.rejects(verify(t["empty-signature"]!), jose.errors.JWSSignatureVerificationFailed);
            // Signed with the real key, valid but for the one thing each names.
            assert.equal(header(t["jku-header"]!).jku, FOREIGN_KEY_URL);
            assert.match(String(header(t["x5u-header"]!).x5u), /^https:\/\/keys\.attacker\.example\//);
            assert.equal(header(t["wrong-typ"]!).typ, "dpop+jwt");
            await assert.rejects(verify(t["wrong-typ"]!, { typ: "JWT" }), /typ/);
            for (const kind of ["jku-header", "x5u-header", "wrong-typ", "no-exp", "long-lifetime", "no-jti"] as const) await verify(t[kind]!);
            assert.equal(claims(t["no-exp"]!).exp, undefined);
            assert.ok(claims(t["long-lifetime"]!).exp! - claims(t["long-lifetime"]!).iat! > 300);
            assert.equal(claims(t["no-jti"]!).jti, undefined);
            assert.equal(header(await dcmToken(facts)).typ, "JWT");
        });
    });
}
