/**
 * How a bank verifies the DCM Processing Center's JWTs (plan steps 1 and 6): a signature by DCM's key
 * (from the published JWKS, or a PEM), an algorithm allow-list, typ JWT, no header naming another key,
 * and the claims iss, aud, exp, nbf, iat, jti, with a short lifetime and no replays, and the request the
 * token is for (htm GET, htu this key keeper's own URL, RFC 9449 style): a token DCM made for another URL
 * (one a ticket edit pointed elsewhere) is refused here, so whoever received it cannot replay it.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import * as tls from "node:tls";
import * as jose from "jose";

/** The `iss` DCM puts in its tokens. */
export const DCM_ISSUER = "dcm-processing-center";

export interface VerifierOptions {
    /** The `aud` to require: this bank's alias. */
    audience: string;
    /**
     * This key keeper's own GET /key URL as DCM calls it (the bank's keyKeeperUrl followed by /key): the
     * `htu` every token must name. Configured, never taken from the request (a Host header is the caller's).
     */
    url: string;
    /**
     * Where accepted jti are kept until they expire. Default: this process' memory, which a second replica
     * or a restart does not share; run more than one replica, or restart within a token's life, only with
     * a store they share (FileReplayStore on a shared volume).
     */
    replayStore?: ReplayStore;
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

/** Accepted token ids, until they expire: `claim` is true the first time a jti is seen, false for a replay. */
export interface ReplayStore {
    claim(jti: string, exp: number): Promise<boolean>;
}

/** One process' memory: enough for one replica that is never restarted within a token's life (tests). */
export class MemoryReplayStore implements ReplayStore {
    private readonly seen = new Map<string, number>();
    async claim(jti: string, exp: number): Promise<boolean> {
        const now = Math.floor(Date.now() / 1000);
        for (const [k, e] of this.seen) if (e + 60 < now) this.seen.delete(k);
        if (this.seen.has(jti)) return false;
        this.seen.set(jti, exp);
        return true;
    }
}

/**
 * Accepted jti as files in a directory (one per jti, named by its SHA-256, created exclusively): every
 * replica mounting the same volume, and the process after a restart, see the same ids. Creation with
 * O_EXCL is atomic on a local file system and on NFSv3+, so two replicas racing on one token accept it
 * once. Files of expired tokens are swept.
 */
export class FileReplayStore implements ReplayStore {
    private lastSweep = 0;
    constructor(private readonly dir: string) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }

    async claim(jti: string, exp: number): Promise<boolean> {
        const now = Math.floor(Date.now() / 1000);
        if (now - this.lastSweep > 60) this.sweep(now);
        const file = path.join(this.dir, crypto.createHash("sha256").update(jti, "utf8").digest("hex"));
        try {
            fs.writeFileSync(file, String(exp), { flag: "wx", mode: 0o600 });
            return true;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
            throw e;
        }
    }

    private sweep(now: number): void {
        this.lastSweep = now;
        for (const name of fs.readdirSync(this.dir)) {
            const file = path.join(this.dir, name);
            try {
                if (Number(fs.readFileSync(file, "utf8")) + 600 < now) fs.rmSync(file, { force: true });
            } catch {
                // Another replica swept it first.
            }
        }
    }
}

/** A URL as `htu` compares it: scheme, host and path, no query or fragment (RFC 9449 section 4.3). */
export function targetUri(value: string): string | undefined {
    try {
        const url = new URL(value);
        url.search = "";
        url.hash = "";
        return url.toString();
    } catch {
        return undefined;
    }
}

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
    const ownUrl = targetUri(options.url);
    if (!ownUrl || !/^https?:$/.test(new URL(ownUrl).protocol)) throw new Error("key keeper: url must be this key keeper's absolute GET /key URL (https://.../key)");
    // jti of accepted tokens until they expire: a captured token cannot be replayed.
    const seen = options.replayStore ?? new MemoryReplayStore();

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
                requiredClaims: ["exp", "iat", "jti", "htm", "htu"],
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
        // Bound to its target: a token DCM made for another URL or method is not for this request.
        if (payload.htm !== "GET") throw new Rejection("htm is not GET");
        if (typeof payload.htu !== "string" || targetUri(payload.htu) !== ownUrl) throw new Rejection("htu names another URL");
        if (!(await seen.claim(String(payload.jti), payload.exp!))) throw new Rejection("jti replayed");
        return payload;
    };
}
