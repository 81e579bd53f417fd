/**
 * DCM's tokens for the bank's key keeper (plan steps 1, 6, 7): the one a correct key keeper accepts, and
 * the forgeries it must reject. Claims: iss = DCM_ISSUER, aud = the bank alias, exp at most 5 minutes
 * ahead, iat, nbf, a fresh jti; header alg = the stack's signingAlgorithm and kid = the stack's kid.
 */
import * as crypto from "node:crypto";
import * as jose from "jose";
import type { Algorithm, StackFacts } from "./outputs";

/** The `iss` of every token DCM's Processing Center signs for banks. */
export const DCM_ISSUER = "dcm-processing-center";
/** Lifetime of DCM's tokens (the plan allows at most 5 minutes). */
export const TOKEN_LIFETIME_S = 120;

export const FORGERIES = [
    "no-token", "alg-none", "hs256-confusion", "tampered-signature", "other-key",
    "expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "unknown-kid",
] as const;
export type Forgery = (typeof FORGERIES)[number];

interface ClaimOverrides {
    iss?: string;
    aud?: string;
    kid?: string;
    /** Seconds relative to now. */
    iat?: number;
    nbf?: number;
    exp?: number;
}

const b64 = (v: unknown) => jose.base64url.encode(typeof v === "string" ? v : JSON.stringify(v));
const now = () => Math.floor(Date.now() / 1000);

const privateKeys = new Map<string, ReturnType<typeof jose.importPKCS8>>();
function privateKey(facts: StackFacts): ReturnType<typeof jose.importPKCS8> {
    const cacheKey = `${facts.signingAlgorithm}\n${facts.privateKeyPem}`;
    let key = privateKeys.get(cacheKey);
    if (!key) {
        key = jose.importPKCS8(facts.privateKeyPem, facts.signingAlgorithm);
        privateKeys.set(cacheKey, key);
    }
    return key;
}

const otherKeys = new Map<Algorithm, Promise<jose.GenerateKeyPairResult>>();
/** A key pair that is not the stack's, one per algorithm per process. */
function otherKey(alg: Algorithm): Promise<jose.GenerateKeyPairResult> {
    let pair = otherKeys.get(alg);
    if (!pair) {
        pair = jose.generateKeyPair(alg, { extractable: true });
        otherKeys.set(alg, pair);
    }
    return pair;
}

function claims(facts: StackFacts, o: ClaimOverrides): jose.JWTPayload {
    const t = now();
    return {
        iss: o.iss ?? DCM_ISSUER,
        aud: o.aud ?? facts.alias,
        iat: t + (o.iat ?? 0),
        nbf: t + (o.nbf ?? 0),
        exp: t + (o.exp ?? TOKEN_LIFETIME_S),
        jti: crypto.randomUUID(),
    };
}

/** A token signed with the stack's private key; overrides make the claim-level forgeries. */
export async function dcmToken(facts: StackFacts, o: ClaimOverrides = {}): Promise<string> {
    return new jose.SignJWT(claims(facts, o))
        .setProtectedHeader({ alg: facts.signingAlgorithm, kid: o.kid ?? facts.kid, typ: "JWT" })
        .sign(await privateKey(facts));
}

/** The Authorization header value for a forgery (undefined: send none). */
export async function forgedToken(kind: Forgery, facts: StackFacts): Promise<string | undefined> {
    switch (kind) {
        case "no-token":
            return undefined;
        case "alg-none":
            return `${b64({ alg: "none", typ: "JWT", kid: facts.kid })}.${b64(claims(facts, {}))}.`;
        case "hs256-confusion": {
            // RS/ES-to-HS confusion: the public key, which everyone has, used as an HMAC secret.
            const input = `${b64({ alg: "HS256", typ: "JWT", kid: facts.kid })}.${b64(claims(facts, {}))}`;
            const mac = crypto.createHmac("sha256", facts.publicKeyPem).update(input).digest();
            return `${input}.${jose.base64url.encode(mac)}`;
        }
        case "tampered-signature": {
            const [h, p, s] = (await dcmToken(facts)).split(".");
            const sig = Buffer.from(jose.base64url.decode(s));
            // Flip a bit in the first byte: a change in the last character may only touch padding bits.
            sig[0] ^= 0x01;
            return `${h}.${p}.${jose.base64url.encode(sig)}`;
        }
        case "other-key": {
            const pair = await otherKey(facts.signingAlgorithm);
            // Embeds its own public key too: a key keeper that trusts the `jwk` header accepts it.
            const jwk = await jose.exportJWK(pair.publicKey);
            return new jose.SignJWT(claims(facts, {}))
                .setProtectedHeader({ alg: facts.signingAlgorithm, kid: facts.kid, typ: "JWT", jwk })
                .sign(pair.privateKey);
        }
        case "expired":
            return dcmToken(facts, { iat: -240, nbf: -240, exp: -120 });
        case "not-yet-valid":
            return dcmToken(facts, { nbf: 120, exp: 240 });
        case "wrong-audience":
            return dcmToken(facts, { aud: `${facts.alias}-other-bank` });
        case "wrong-issuer":
            return dcmToken(facts, { iss: "https://issuer.attacker.example" });
        case "unknown-kid":
            return dcmToken(facts, { kid: jose.base64url.encode(crypto.randomBytes(32)) });
    }
}
