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

/** The `typ` of DCM's tokens. */
export const TOKEN_TYPE = "JWT";
/** Where forged jku and x5u headers point: a host that is not DCM's. */
export const FOREIGN_KEY_URL = "https://keys.attacker.example/.well-known/jwks.json";

/** Tokens a key keeper must refuse, each breaking one rule of the contract (reference/key-keeper/README.md). */
export const FORGERIES = [
    "no-token", "alg-none", "alg-none-uppercase", "alg-none-capitalized", "hs256-confusion", "tampered-signature", "empty-signature",
    "other-key", "jku-header", "x5u-header", "wrong-typ", "expired", "no-exp", "long-lifetime", "not-yet-valid",
    "wrong-audience", "wrong-issuer", "unknown-kid", "no-jti",
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
    /** Claims left out. */
    omit?: ("exp" | "jti")[];
    /** Header parameters added or replaced. */
    header?: Record<string, unknown>;
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
    const payload: jose.JWTPayload = {
        iss: o.iss ?? DCM_ISSUER,
        aud: o.aud ?? facts.alias,
        iat: t + (o.iat ?? 0),
        nbf: t + (o.nbf ?? 0),
        exp: t + (o.exp ?? TOKEN_LIFETIME_S),
        jti: crypto.randomUUID(),
    };
    for (const claim of o.omit ?? []) delete payload[claim];
    return payload;
}

/** A token signed with the stack's private key; overrides make the claim-level forgeries. */
export async function dcmToken(facts: StackFacts, o: ClaimOverrides = {}): Promise<string> {
    return new jose.SignJWT(claims(facts, o))
        .setProtectedHeader({ alg: facts.signingAlgorithm, kid: o.kid ?? facts.kid, typ: TOKEN_TYPE, ...o.header })
        .sign(await privateKey(facts));
}

/** The Authorization header value for a forgery (undefined: send none). */
export async function forgedToken(kind: Forgery, facts: StackFacts): Promise<string | undefined> {
    switch (kind) {
        case "no-token":
            return undefined;
        case "alg-none":
            return `${b64({ alg: "none", typ: TOKEN_TYPE, kid: facts.kid })}.${b64(claims(facts, {}))}.`;
        // A deny-list that compares "none" case-sensitively lets these through to an unsigned path.
        case "alg-none-uppercase":
            return `${b64({ alg: "NONE", typ: TOKEN_TYPE, kid: facts.kid })}.${b64(claims(facts, {}))}.`;
        case "alg-none-capitalized":
            return `${b64({ alg: "None", typ: TOKEN_TYPE, kid: facts.kid })}.${b64(claims(facts, {}))}.`;
        case "hs256-confusion": {
            // RS/ES-to-HS confusion: the public key, which everyone has, used as an HMAC secret.
            const input = `${b64({ alg: "HS256", typ: TOKEN_TYPE, kid: facts.kid })}.${b64(claims(facts, {}))}`;
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
        case "empty-signature": {
            const [h, p] = (await dcmToken(facts)).split(".");
            return `${h}.${p}.`;
        }
        case "other-key": {
            const pair = await otherKey(facts.signingAlgorithm);
            // Embeds its own public key too: a key keeper that trusts the `jwk` header accepts it.
            const jwk = await jose.exportJWK(pair.publicKey);
            return new jose.SignJWT(claims(facts, {}))
                .setProtectedHeader({ alg: facts.signingAlgorithm, kid: facts.kid, typ: TOKEN_TYPE, jwk })
                .sign(pair.privateKey);
        }
        // Signed by DCM's key: the contract refuses any token naming a key URL, since DCM never sends one.
        case "jku-header":
            return dcmToken(facts, { header: { jku: FOREIGN_KEY_URL } });
        case "x5u-header":
            return dcmToken(facts, { header: { x5u: FOREIGN_KEY_URL.replace(/[^/]+$/, "dcm.pem") } });
        // A DPoP proof or an access token of another system must not pass for DCM's token.
        case "wrong-typ":
            return dcmToken(facts, { header: { typ: "dpop+jwt" } });
        case "no-exp":
            return dcmToken(facts, { omit: ["exp"] });
        case "long-lifetime":
            return dcmToken(facts, { exp: 3600 });
        case "no-jti":
            return dcmToken(facts, { omit: ["jti"] });
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
