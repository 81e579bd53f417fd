/**
 * How a bank verifies the DCM Processing Center's JWTs (plan steps 1 and 6): a signature by DCM's key
 * (from the published JWKS, or a PEM), an algorithm allow-list, typ JWT, no header naming another key,
 * and the claims iss, aud, exp, nbf, iat, jti, with a short lifetime and no replays.
 */
import * as https from "node:https";
import * as tls from "node:tls";
import * as jose from "jose";

/** The `iss` DCM puts in its tokens. */
export const DCM_ISSUER = "dcm-processing-center";

export interface VerifierOptions {
    /** The `aud` to require: this bank's alias. */
    audience: string;
    /** The `iss` to require; default DCM_ISSUER. */
    issuer?: string;
    /** Accepted `alg` values; default ["ES256"]. Never "none" or an HMAC algorithm. */
    algorithms?: string[];
    /** DCM's published JWKS (https://api-<alias>-<env>.<domain>/.well-known/jwks.json); or publicKeyPem. */
    jwksUrl?: string;
    /** Extra CA certificates (PEM) to trust when fetching the JWKS (a self-signed environment). */
    jwksCa?: string[];
    /** Connect to this address instead of the JWKS URL's host (a tunnel; the certificate is still checked against the URL's host). */
    jwksConnectTo?: { host: string; port: number };
    /** DCM's public key as an SPKI PEM, when the JWKS URL is not reachable from the bank. */
    publicKeyPem?: string;
    /** Clock skew allowed on exp, nbf and iat; default 30 s. */
    clockToleranceS?: number;
    /** Longest token lifetime accepted (exp - iat, and exp - now); default 300 s, as the plan says. */
    maxLifetimeS?: number;
}

/** A token was refused; `reason` is for the key keeper's log, never for the caller. */
export class Rejection extends Error {
    constructor(public readonly reason: string) {
        super(reason);
        this.name = "Rejection";
    }
}

/** DCM's key cannot be had right now (the JWKS is down or broken): not the caller's fault; the server answers 503. */
export class KeySourceUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "KeySourceUnavailable";
    }
}

export type Verify = (authorization: string | undefined) => Promise<jose.JWTPayload>;

const FORBIDDEN_ALGORITHMS = /^(none|HS\d+)$/i;
/** The `typ` of DCM's tokens. */
export const DCM_TOKEN_TYPE = "JWT";
/**
 * Header parameters that name or carry a key. DCM never sends them: its key comes from the JWKS or the PEM
 * the bank configured, so a token bringing its own key, or a URL to fetch one from, is refused outright.
 */
const KEY_HEADERS = ["jku", "x5u", "jwk", "x5c"];

/** GETs the JWKS with node:https so a private CA and a tunnel can be used; jose caches and refreshes it. */
function jwksFetch(options: VerifierOptions): jose.FetchImplementation {
    const ca = options.jwksCa?.length ? [...tls.rootCertificates, ...options.jwksCa] : undefined;
    return (urlText, init) => new Promise<Response>((resolve, reject) => {
        const url = new URL(urlText);
        const req = https.get({
            host: options.jwksConnectTo?.host ?? url.hostname,
            port: options.jwksConnectTo?.port ?? (url.port || 443),
            path: `${url.pathname}${url.search}`,
            servername: url.hostname,
            headers: { host: url.host, accept: "application/json" },
            ca,
            agent: false,
            signal: init.signal,
        }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: { "content-type": String(res.headers["content-type"] ?? "") } })));
            res.on("error", reject);
        });
        req.on("error", reject);
    });
}

/** Key lookup by `kid`: the JWKS (refetched, rate-limited, when a kid is new) or the one PEM. */
async function keyResolver(options: VerifierOptions): Promise<jose.JWTVerifyGetKey> {
    if (options.jwksUrl) {
        const remote = jose.createRemoteJWKSet(new URL(options.jwksUrl), {
            cooldownDuration: 30_000,
            cacheMaxAge: 600_000,
            [jose.customFetch]: jwksFetch(options),
        });
        return async (header, token) => {
            if (!header.kid) throw new Rejection("no kid in the header");
            try {
                return await remote(header, token);
            } catch (e) {
                // No key under the token's kid is the token's fault (401). Anything else is the key source's: the
                // JWKS answering 503 or not JSON, not reachable. jose reports a non-200 JWKS as a plain JOSEError,
                // which would read as a bad token; as KeySourceUnavailable the server answers 503, and DCM retries.
                if (e instanceof jose.errors.JWKSNoMatchingKey || e instanceof jose.errors.JWKSMultipleMatchingKeys) throw e;
                throw new KeySourceUnavailable(`the JWKS at ${options.jwksUrl}: ${(e as Error).message}`);
            }
        };
    }
    if (!options.publicKeyPem) throw new Error("key keeper: give jwksUrl or publicKeyPem");
    // The kid of a PEM is its RFC 7638 thumbprint, the same kid DCM publishes in its JWKS.
    const keys = new Map<string, Promise<jose.CryptoKey>>();
    const probe = await jose.importSPKI(options.publicKeyPem, (options.algorithms ?? ["ES256"])[0], { extractable: true });
    const kid = await jose.calculateJwkThumbprint(await jose.exportJWK(probe), "sha256");
    return (header) => {
        if (header.kid !== kid) throw new Rejection(`unknown kid ${String(header.kid).slice(0, 64)}`);
        let key = keys.get(header.alg);
        if (!key) {
            key = jose.importSPKI(options.publicKeyPem!, header.alg);
            keys.set(header.alg, key);
        }
        return key;
    };
}

export async function createTokenVerifier(options: VerifierOptions): Promise<Verify> {
    const algorithms = options.algorithms ?? ["ES256"];
    const bad = algorithms.filter((a) => FORBIDDEN_ALGORITHMS.test(a));
    if (bad.length) throw new Error(`key keeper: algorithms must not include ${bad.join(", ")}`);
    const tolerance = options.clockToleranceS ?? 30;
    const maxLifetime = options.maxLifetimeS ?? 300;
    const getKey = await keyResolver(options);
    // jti of accepted tokens until they expire: a captured token cannot be replayed.
    const seen = new Map<string, number>();

    return async (authorization) => {
        const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization ?? "");
        if (!m) throw new Rejection(authorization ? "the Authorization header is not a Bearer JWT" : "no Authorization header");
        let payload: jose.JWTPayload;
        let header: jose.ProtectedHeaderParameters;
        try {
            header = jose.decodeProtectedHeader(m[1]);
        } catch {
            throw new Rejection("the header is not JSON");
        }
        const keyHeader = KEY_HEADERS.find((h) => h in header);
        if (keyHeader) throw new Rejection(`a ${keyHeader} header (DCM never names or sends a key in the token)`);
        try {
            // jose compares typ case-insensitively and without an "application/" prefix, as RFC 7515 says.
            ({ payload } = await jose.jwtVerify(m[1], getKey, {
                algorithms,
                typ: DCM_TOKEN_TYPE,
                issuer: options.issuer ?? DCM_ISSUER,
                audience: options.audience,
                clockTolerance: tolerance,
                maxTokenAge: maxLifetime,
                requiredClaims: ["exp", "iat", "jti"],
            }));
        } catch (e) {
            if (e instanceof Rejection) throw e;
            // An unreachable or broken JWKS is our problem, not the caller's: the server answers 503.
            if (!(e instanceof jose.errors.JOSEError) || e instanceof jose.errors.JWKSTimeout || e instanceof jose.errors.JWKSInvalid) throw e;
            throw new Rejection(`${e.code}: ${e.message}`);
        }
        const now = Math.floor(Date.now() / 1000);
        if (payload.exp! - payload.iat! > maxLifetime + tolerance || payload.exp! - now > maxLifetime + tolerance) {
            throw new Rejection(`lifetime over ${maxLifetime} s`);
        }
        for (const [jti, exp] of seen) if (exp + tolerance < now) seen.delete(jti);
        if (seen.has(payload.jti!)) throw new Rejection("jti replayed");
        seen.set(payload.jti!, payload.exp!);
        return payload;
    };
}
