/**
 * DCM's tokens for the bank's key keeper (plan steps 1, 6, 7): the one a correct key keeper accepts, and
 * the forgeries it must reject. Claims: iss = DCM_ISSUER, aud = the bank alias, exp TOKEN_LIFETIME_S
 * ahead, iat, nbf, a fresh jti, and the request the token is for (RFC 9449 style): htm = GET and htu =
 * the key keeper's GET /key URL. A token is bound to its target: one captured by a host it was sent to
 * (a keyKeeperUrl pointed elsewhere) is refused by the bank's real key keeper, whose URL it does not name.
 * Header alg = the stack's signingAlgorithm and kid = the stack's kid.
 */
import * as crypto from "node:crypto";
import * as jose from "jose";
import type { Algorithm, StackFacts } from "./outputs";

/** The `iss` of every token DCM's Processing Center signs for banks. */
export const DCM_ISSUER = "dcm-processing-center";
/**
 * Lifetime of DCM's tokens: a token is made right before its one request, so it needs only that request's
 * time plus the clock skew a key keeper tolerates (30 s in the reference); the plan allows at most 5 minutes.
 */
export const TOKEN_LIFETIME_S = 60;
/** The method DCM's token is for (`htm`): the key keeper's GET /key. */
export const TOKEN_METHOD = "GET";
/** Where a token made for another key keeper points (`htu` of the other-url forgery). */
export const FOREIGN_KEY_KEEPER_URL = "https://keys.attacker.example/keeper/key";

/** The `typ` of DCM's tokens. */
export const TOKEN_TYPE = "JWT";
/** Where forged jku and x5u headers point: a host that is not DCM's. */
export const FOREIGN_KEY_URL = "https://keys.attacker.example/.well-known/jwks.json";

/** Tokens a key keeper must refuse, each breaking one rule of the contract (reference/key-keeper/README.md). */
export const FORGERIES = [
    "no-token", "alg-none", "alg-none-uppercase", "alg-none-capitalized", "hs256-confusion", "tampered-signature", "empty-signature",
    "other-key", "jku-header", "x5u-header", "wrong-typ", "expired", "no-exp", "long-lifetime", "not-yet-valid",
    "wrong-audience", "wrong-issuer", "unknown-kid", "no-jti", "other-url", "no-htu", "wrong-htm",
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
    /** The URL the token is for (`htu`); default the stack's key keeper's GET /key. */
    htu?: string;
    /** The method the token is for (`htm`); default GET. */
    htm?: string;
    /** Claims left out. */
    omit?: ("exp" | "jti" | "htu")[];
    /** Header parameters added or replaced. */
    header?: Record<string, unknown>;
}

/**
 * The URL of the key keeper's GET /key that DCM calls, and that its tokens name in `htu`: the bank's
 * keyKeeperUrl followed by `key`, without query or fragment (RFC 9449 section 4.3).
 */
export function keyUrl(facts: Pick<StackFacts, "keyKeeperUrl">): string {
    const base = new URL(facts.keyKeeperUrl);
    base.search = "";
    base.hash = "";
    if (!base.pathname.endsWith("/")) base.pathname = `${base.pathname}/`;
    return new URL("key", base).toString();
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
        htm: o.htm ?? TOKEN_METHOD,
        htu: o.htu ?? keyUrl(facts),
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
        // Made for another key keeper (what a host a ticket edit pointed keyKeeperUrl at would hold and replay here).
        case "other-url":
            return dcmToken(facts, { htu: FOREIGN_KEY_KEEPER_URL });
        case "no-htu":
            return dcmToken(facts, { omit: ["htu"] });
        case "wrong-htm":
            return dcmToken(facts, { htm: "POST" });
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
