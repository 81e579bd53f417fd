/**
 * Hand-rolled token verifiers with one hole each, as banks get them wrong. With no hole the verifier is
 * correct (the checks must pass it: they do not fail for the wrong reason); with a hole, the checks must
 * catch it.
 */
import * as crypto from "node:crypto";
import * as jose from "jose";
import { DCM_ISSUER, Rejection, Verify } from "../../../reference/key-keeper/verifier";

export const HOLES = [
    "no-auth", "accepts-alg-none", "hs256-confusion", "skips-signature", "trusts-jwk-header",
    "skips-expiry", "skips-nbf", "any-audience", "any-issuer", "ignores-kid",
] as const;
export type Hole = (typeof HOLES)[number];

export async function looseVerifier(publicKeyPem: string, alg: string, audience: string, hole?: Hole): Promise<Verify> {
    const key = await jose.importSPKI(publicKeyPem, alg, { extractable: true });
    const kid = await jose.calculateJwkThumbprint(await jose.exportJWK(key), "sha256");
    const has = (h: Hole) => hole === h;
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
        if (header.kid !== kid && !has("ignores-kid") && !(has("trusts-jwk-header") && header.jwk)) throw new Rejection("unknown kid");
        const input = Buffer.from(`${h}.${p}`);
        const signature = Buffer.from(s ?? "", "base64url");
        if (header.alg === "none") {
            if (!has("accepts-alg-none")) throw new Rejection("alg none");
        } else if (header.alg === "HS256") {
            if (!has("hs256-confusion")) throw new Rejection("alg HS256");
            const mac = crypto.createHmac("sha256", publicKeyPem).update(input).digest();
            if (!crypto.timingSafeEqual(mac, signature.length === mac.length ? signature : Buffer.alloc(mac.length))) throw new Rejection("bad mac");
        } else if (header.alg !== alg) {
            throw new Rejection("alg not allowed");
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
        if (!has("skips-expiry") && (typeof claims.exp !== "number" || claims.exp + 30 < now)) throw new Rejection("exp");
        if (!has("skips-nbf") && typeof claims.nbf === "number" && claims.nbf - 30 > now) throw new Rejection("nbf");
        return claims;
    };
}
