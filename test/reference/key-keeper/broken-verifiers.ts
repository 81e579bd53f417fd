/**
 * Hand-rolled token verifiers with one hole each, as banks get them wrong. With no hole the verifier is
 * correct (the checks must pass it: they do not fail for the wrong reason); with a hole, the checks must
 * catch it.
 */
import * as crypto from "node:crypto";
import * as jose from "jose";
import { DCM_ISSUER, Rejection, Verify } from "../../../reference/key-keeper/verifier";
import { KEY_KEEPER_KEY_URL } from "../../../support/checks/stack";

export const HOLES = [
    "no-auth", "accepts-alg-none", "none-any-case", "hs256-confusion", "skips-signature", "accepts-empty-signature", "trusts-jwk-header",
    "ignores-key-urls", "any-typ", "skips-expiry", "exp-optional", "no-lifetime-limit", "skips-nbf", "any-audience", "any-issuer",
    "ignores-kid", "jti-optional", "no-replay-check", "ignores-htu", "htu-optional", "ignores-htm",
] as const;
export type Hole = (typeof HOLES)[number];

export async function looseVerifier(publicKeyPem: string, alg: string, audience: string, hole?: Hole): Promise<Verify> {
    const key = await jose.importSPKI(publicKeyPem, alg, { extractable: true });
    const kid = await jose.calculateJwkThumbprint(await jose.exportJWK(key), "sha256");
    const has = (h: Hole) => hole === h;
    const seen = new Set<string>();
    return async (authorization) => {
        if (has("no-auth")) return {};
        const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
        if (!token) throw new Rejection("no token");
        const [h, p, s] = token.split(".");
        let header: jose.ProtectedHeaderParameters & { jwk?: jose.JWK };
        let claims: jose.JWTPayload;
        try {
            header = JSON.parse(Buffer.from(h, "base64url").toString());
            claims = JSON.parse(Buffer.from(p, "base64url").toString());
        } catch {
            throw new Rejection("malformed");
        }
        if (!has("ignores-key-urls") && ("jku" in header || "x5u" in header)) throw new Rejection("key url in the header");
        if (!has("any-typ") && String(header.typ).toLowerCase() !== "jwt") throw new Rejection("typ");
        if (header.kid !== kid && !has("ignores-kid") && !(has("trusts-jwk-header") && header.jwk)) throw new Rejection("unknown kid");
        const input = Buffer.from(`${h}.${p}`);
        const signature = Buffer.from(s ?? "", "base64url");
        if (header.alg === "none") {
            if (!has("accepts-alg-none")) throw new Rejection("alg none");
        } else if (has("none-any-case") && header.alg?.toLowerCase() === "none") {
            // The deny-list above compared exactly; the dispatch lower-cases: an unsigned path.
        } else if (header.alg === "HS256") {
            if (!has("hs256-confusion")) throw new Rejection("alg HS256");
            const mac = crypto.createHmac("sha256", publicKeyPem).update(input).digest();
            if (!crypto.timingSafeEqual(mac, signature.length === mac.length ? signature : Buffer.alloc(mac.length))) throw new Rejection("bad mac");
        } else if (header.alg !== alg) {
            throw new Rejection("alg not allowed");
        } else if (has("accepts-empty-signature") && !s) {
            // "No signature to check" taken as nothing wrong.
        } else if (!has("skips-signature")) {
            const verifyWith = has("trusts-jwk-header") && header.jwk ? await jose.importJWK(header.jwk, alg) : key;
            try {
                await jose.compactVerify(token, verifyWith);
            } catch {
                throw new Rejection("bad signature");
            }
        }
        const now = Math.floor(Date.now() / 1000);
        if (!has("any-issuer") && claims.iss !== DCM_ISSUER) throw new Rejection("iss");
        if (!has("any-audience") && claims.aud !== audience && !(Array.isArray(claims.aud) && claims.aud.includes(audience))) throw new Rejection("aud");
        if (typeof claims.exp !== "number") {
            if (!has("skips-expiry") && !has("exp-optional")) throw new Rejection("no exp");
        } else {
            if (!has("skips-expiry") && claims.exp + 30 < now) throw new Rejection("exp");
            if (!has("no-lifetime-limit") && (claims.exp - (claims.iat ?? now) > 330 || claims.exp - now > 330)) throw new Rejection("lifetime");
        }
        if (!has("skips-nbf") && typeof claims.nbf === "number" && claims.nbf - 30 > now) throw new Rejection("nbf");
        if (typeof claims.htu !== "string") {
            if (!has("htu-optional") && !has("ignores-htu")) throw new Rejection("no htu");
        } else if (!has("ignores-htu") && claims.htu !== KEY_KEEPER_KEY_URL) throw new Rejection("htu");
        if (!has("ignores-htm") && claims.htm !== "GET") throw new Rejection("htm");
        if (typeof claims.jti !== "string") {
            if (!has("jti-optional")) throw new Rejection("no jti");
        } else if (!has("no-replay-check")) {
            if (seen.has(claims.jti)) throw new Rejection("replayed jti");
            seen.add(claims.jti);
        }
        return claims;
    };
}
