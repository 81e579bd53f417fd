/**
 * Plan steps 1, 6 and 7, against the bank's key keeper: its certificate, GET /key with DCM's token returns
 * exactly the two seeded users (secrets compared by digest, never shown), every forged token and a replayed
 * one are rejected. Nothing the key keeper answers is quoted: any of it may hold a secret.
 */
import * as crypto from "node:crypto";
import { BlockedFailure, CheckFailure, CheckSkipped, TransientFailure } from "../errors";
import { dcmToken, Forgery, FORGERIES, forgedToken, keyUrl } from "../jwt";
import type { CheckContext, CheckDefinition } from "./definition";
import { certificateVerdict } from "./hosts";

/** Statuses that count as a rejection. */
const REJECTIONS = [400, 401, 403];

const FORGERY_TITLES: Record<Forgery, string> = {
    "no-token": "a request without a token",
    "alg-none": "an unsigned token (alg: none)",
    "alg-none-uppercase": "an unsigned token (alg: NONE)",
    "alg-none-capitalized": "an unsigned token (alg: None)",
    "hs256-confusion": "an HS256 token keyed with the public key",
    "tampered-signature": "a token with a tampered signature",
    "empty-signature": "a token with an empty signature",
    "other-key": "a token signed by another key (embedded in its jwk header)",
    "jku-header": "a token whose jku header points elsewhere",
    "x5u-header": "a token whose x5u header points elsewhere",
    "wrong-typ": "a token whose typ is not JWT",
    "expired": "an expired token",
    "no-exp": "a token without exp",
    "long-lifetime": "a token living longer than 5 minutes",
    "not-yet-valid": "a token not yet valid (nbf ahead)",
    "wrong-audience": "a token for another audience",
    "wrong-issuer": "a token from another issuer",
    "unknown-kid": "a token with an unknown kid",
    "no-jti": "a token without jti",
    "other-url": "a token made for another key keeper's URL (htu)",
    "no-htu": "a token that names no target URL (no htu)",
    "wrong-htm": "a token made for another method (htm POST)",
};

export { keyUrl };

const digest = (v: string) => crypto.createHash("sha256").update(v, "utf8").digest();

function sameSecret(a: string, b: string): boolean {
    return crypto.timingSafeEqual(digest(a), digest(b));
}

const isOk = (status: number) => status >= 200 && status < 300;

/**
 * A 5xx from the key keeper, retried. When DCM's JWKS answers 5xx or nothing at that moment too, the key
 * keeper cannot verify DCM's tokens (it takes DCM's key from there): a BlockedFailure naming the JWKS, so
 * the check ends not run, and the jwks check alone fails for it.
 */
async function keyKeeperDown(status: number, url: string, { facts, http }: CheckContext, timeoutMs: number): Promise<never> {
    const jwks = await http.request(facts.jwksUrl, { headers: { accept: "application/json" }, timeoutMs }).then(
        (res) => (res.status >= 500 ? `answers ${res.status}` : undefined),
        (e: unknown) => (e instanceof TransientFailure ? "does not answer" : undefined),
    );
    if (jwks) throw new BlockedFailure(`DCM's JWKS at ${facts.jwksUrl} ${jwks}, so the key keeper cannot verify DCM's tokens (see jwks); GET ${url} answered ${status}`);
    throw new TransientFailure(`GET ${url} answered ${status}`);
}

/** The key keeper's TLS certificate: valid for its name and trusted; a warning when it expires within 14 days. */
function certificateCheck(): CheckDefinition {
    return {
        id: "https-key-keeper",
        step: "1,6",
        title: "the key keeper answers over HTTPS with a valid certificate",
        needs: (facts) => [facts.keyKeeperUrl],
        attempt: async ({ facts, http }, timeoutMs) => {
            const tls = await http.probeTls(facts.keyKeeperUrl, timeoutMs);
            return certificateVerdict(tls, new URL(facts.keyKeeperUrl).hostname, "the key keeper's");
        },
    };
}

function getKeyCheck(): CheckDefinition {
    return {
        id: "key-keeper-get-key",
        step: "1,6,7",
        title: "GET /key with DCM's token returns exactly the two seeded users",
        needs: (facts) => [facts.keyKeeperUrl],
        attempt: async (ctx, timeoutMs) => {
            const { facts, http } = ctx;
            const url = keyUrl(facts);
            const res = await http.request(url, { headers: { authorization: `Bearer ${await dcmToken(facts)}`, accept: "application/json" }, timeoutMs });
            if (res.status >= 500) await keyKeeperDown(res.status, url, ctx, timeoutMs);
            if (res.status !== 200) throw new CheckFailure(`GET ${url} answered ${res.status} to DCM's valid token, expected 200`);
            let doc: { users?: unknown };
            try {
                doc = JSON.parse(res.body) as { users?: unknown };
            } catch {
                throw new CheckFailure("the answer is not JSON");
            }
            if (!Array.isArray(doc?.users)) throw new CheckFailure("the answer has no users list ({\"users\": [{\"username\", \"secret\"}, ...]})");
            const got = doc.users as { username?: unknown; secret?: unknown }[];
            const expected = facts.users.map((u) => u.username).join(", ");
            if (got.length !== facts.users.length) throw new CheckFailure(`returned ${got.length} user(s), expected exactly ${facts.users.length} (${expected})`);
            const seen = new Set<string>();
            for (const [i, entry] of got.entries()) {
                const username = typeof entry?.username === "string" ? entry.username : "";
                const seeded = facts.users.find((u) => u.username === username);
                // The answer is not quoted: a wrong username may carry a password (`user:password`).
                if (!seeded) throw new CheckFailure(`users[${i}] ${username ? "is not one of the seeded users" : "has no username"} (expected ${expected})`);
                if (seen.has(username)) throw new CheckFailure(`returned ${seeded.username} twice`);
                seen.add(username);
                if (typeof entry.secret !== "string" || !sameSecret(entry.secret, seeded.secret)) {
                    throw new CheckFailure(`the secret for ${username} (${seeded.entity}) differs from the seeded one`);
                }
            }
        },
    };
}

/** The verdict on an answer to a token the key keeper must refuse. */
async function judgeRejection(res: { status: number; body: string }, what: string, url: string, ctx: CheckContext, timeoutMs: number): Promise<void> {
    const { reveals } = ctx;
    if (res.status >= 500) await keyKeeperDown(res.status, url, ctx, timeoutMs);
    if (isOk(res.status)) throw new CheckFailure(`accepted ${what} (answered ${res.status})`);
    if (!REJECTIONS.includes(res.status)) throw new CheckFailure(`answered ${res.status}, expected a rejection (${REJECTIONS.join(", ")})`);
    if (reveals(res.body)) throw new CheckFailure(`rejected with ${res.status}, but the body holds a user's secret`);
}

function rejectsCheck(kind: Forgery): CheckDefinition {
    return {
        id: `key-keeper-rejects-${kind}`,
        step: "1,6",
        title: `GET /key rejects ${FORGERY_TITLES[kind]}`,
        needs: (facts) => [facts.keyKeeperUrl],
        attempt: async (ctx, timeoutMs) => {
            const { facts, http } = ctx;
            const url = keyUrl(facts);
            const token = await forgedToken(kind, facts);
            const res = await http.request(url, { headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, timeoutMs });
            await judgeRejection(res, FORGERY_TITLES[kind], url, ctx, timeoutMs);
        },
    };
}

/** DCM's valid token, sent twice: the second use must be refused (a captured token is worth one request). */
function replayCheck(): CheckDefinition {
    const what = "a replayed token (the same jti twice)";
    return {
        id: "key-keeper-rejects-replayed-jti",
        step: "1,6",
        title: `GET /key rejects ${what}`,
        needs: (facts) => [facts.keyKeeperUrl],
        attempt: async (ctx, timeoutMs) => {
            const { facts, http } = ctx;
            const url = keyUrl(facts);
            const headers = { accept: "application/json", authorization: `Bearer ${await dcmToken(facts)}` };
            const first = await http.request(url, { headers, timeoutMs });
            if (first.status >= 500) await keyKeeperDown(first.status, url, ctx, timeoutMs);
            if (!isOk(first.status)) throw new CheckSkipped(`not tried: DCM's valid token was refused (answered ${first.status}; see key-keeper-get-key)`);
            await judgeRejection(await http.request(url, { headers, timeoutMs }), what, url, ctx, timeoutMs);
        },
    };
}

export function keyKeeperChecks(): CheckDefinition[] {
    return [certificateCheck(), getKeyCheck(), ...FORGERIES.map(rejectsCheck), replayCheck()];
}
