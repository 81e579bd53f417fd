/**
 * Plan steps 1, 6 and 7, against the bank's key keeper: GET /key with DCM's token returns exactly the two
 * seeded users (secrets compared by digest, never shown), and every forged token is rejected.
 */
import * as crypto from "node:crypto";
import { CheckFailure, TransientFailure } from "../errors";
import { dcmToken, Forgery, FORGERIES, forgedToken } from "../jwt";
import type { StackFacts } from "../outputs";
import type { CheckDefinition } from "./definition";

/** Statuses that count as a rejection. */
const REJECTIONS = [400, 401, 403];

const FORGERY_TITLES: Record<Forgery, string> = {
    "no-token": "a request without a token",
    "alg-none": "an unsigned token (alg: none)",
    "hs256-confusion": "an HS256 token keyed with the public key",
    "tampered-signature": "a token with a tampered signature",
    "other-key": "a token signed by another key (embedded in its jwk header)",
    "expired": "an expired token",
    "not-yet-valid": "a token not yet valid (nbf ahead)",
    "wrong-audience": "a token for another audience",
    "wrong-issuer": "a token from another issuer",
    "unknown-kid": "a token with an unknown kid",
};

export function keyUrl(facts: StackFacts): string {
    return new URL("key", facts.keyKeeperUrl.endsWith("/") ? facts.keyKeeperUrl : `${facts.keyKeeperUrl}/`).toString();
}

const digest = (v: string) => crypto.createHash("sha256").update(v, "utf8").digest();

function sameSecret(a: string, b: string): boolean {
    return crypto.timingSafeEqual(digest(a), digest(b));
}

function leaksSecret(body: string, facts: StackFacts): boolean {
    return facts.users.some((u) => body.includes(u.secret));
}

function getKeyCheck(): CheckDefinition {
    return {
        id: "key-keeper-get-key",
        step: "1,6,7",
        title: "GET /key with DCM's token returns exactly the two seeded users",
        attempt: async ({ facts, http }, timeoutMs) => {
            const url = keyUrl(facts);
            const res = await http.request(url, { headers: { authorization: `Bearer ${await dcmToken(facts)}`, accept: "application/json" }, timeoutMs });
            if (res.status >= 500) throw new TransientFailure(`GET ${url} answered ${res.status}`);
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
            for (const entry of got) {
                const username = typeof entry?.username === "string" ? entry.username : "";
                const seeded = facts.users.find((u) => u.username === username);
                if (!seeded) throw new CheckFailure(`returned an unexpected user${username ? ` '${username.slice(0, 64)}'` : " without a username"}, expected ${expected}`);
                if (seen.has(username)) throw new CheckFailure(`returned ${username} twice`);
                seen.add(username);
                if (typeof entry.secret !== "string" || !sameSecret(entry.secret, seeded.secret)) {
                    throw new CheckFailure(`the secret for ${username} (${seeded.entity}) differs from the seeded one`);
                }
            }
        },
    };
}

function rejectsCheck(kind: Forgery): CheckDefinition {
    return {
        id: `key-keeper-rejects-${kind}`,
        step: "1,6",
        title: `GET /key rejects ${FORGERY_TITLES[kind]}`,
        attempt: async ({ facts, http }, timeoutMs) => {
            const url = keyUrl(facts);
            const token = await forgedToken(kind, facts);
            const res = await http.request(url, { headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, timeoutMs });
            if (res.status >= 500) throw new TransientFailure(`GET ${url} answered ${res.status}`);
            if (res.status >= 200 && res.status < 300) throw new CheckFailure(`accepted ${FORGERY_TITLES[kind]} (answered ${res.status})`);
            if (!REJECTIONS.includes(res.status)) throw new CheckFailure(`answered ${res.status}, expected a rejection (${REJECTIONS.join(", ")})`);
            if (leaksSecret(res.body, facts)) throw new CheckFailure(`rejected with ${res.status}, but the body holds a user's secret`);
        },
    };
}

export function keyKeeperChecks(): CheckDefinition[] {
    return [getKeyCheck(), ...FORGERIES.map(rejectsCheck)];
}
