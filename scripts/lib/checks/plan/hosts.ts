/** Plan step 5: both hosts resolve and answer over HTTPS with a good certificate, redirect plain HTTP, set HSTS. */
import { CheckFailure, TransientFailure } from "../errors";
import type { StackFacts } from "../outputs";
import type { CheckDefinition } from "./definition";

/** A certificate must stay valid at least this long. */
export const MIN_CERT_DAYS = 14;
/** Shortest acceptable HSTS max-age: 180 days (ingress-nginx's default is 182). */
export const MIN_HSTS_SECONDS = 180 * 86400;
const DAY = 86_400_000;

type Role = "backoffice" | "api";

function base(facts: StackFacts, role: Role): { url: string; host: string } {
    return role === "backoffice" ? { url: facts.backofficeUrl, host: facts.backofficeHost } : { url: facts.apiUrl, host: facts.apiHost };
}

const day = (d: Date) => d.toISOString().slice(0, 10);

function httpsCheck(role: Role): CheckDefinition {
    return {
        id: `https-${role}`,
        step: "5",
        title: `${role} host answers over HTTPS with a valid certificate`,
        attempt: async ({ facts, http }, timeoutMs) => {
            const { url, host } = base(facts, role);
            const tls = await http.probeTls(url, timeoutMs);
            if (tls.identityError) throw new CheckFailure(`certificate is not valid for ${host}: it names ${tls.altNames || tls.subject || "nothing"}`);
            const now = Date.now();
            if (tls.validTo.getTime() <= now) throw new CheckFailure(`certificate expired on ${day(tls.validTo)}`);
            if (tls.validFrom.getTime() > now) throw new CheckFailure(`certificate is not valid before ${day(tls.validFrom)}`);
            if (!tls.authorized) throw new CheckFailure(`certificate does not chain to a trusted root (${tls.authorizationError ?? "unverified"}); in self-signed mode pass --ca`);
            const days = Math.floor((tls.validTo.getTime() - now) / DAY);
            if (days < MIN_CERT_DAYS) throw new CheckFailure(`certificate expires on ${day(tls.validTo)}, in ${days} days (fewer than ${MIN_CERT_DAYS})`);
            const res = await http.request(`${url}/`, { timeoutMs });
            if (res.status >= 500) throw new TransientFailure(`GET ${url}/ answered ${res.status}`);
        },
    };
}

function redirectCheck(role: Role): CheckDefinition {
    return {
        id: `http-redirect-${role}`,
        step: "5",
        title: `plain HTTP to the ${role} host redirects to HTTPS`,
        attempt: async ({ facts, http }, timeoutMs) => {
            const { host } = base(facts, role);
            const plain = `http://${host}/integration-check?probe=1`;
            const res = await http.request(plain, { timeoutMs });
            if (res.status >= 500) throw new TransientFailure(`GET http://${host}/ answered ${res.status}`);
            const location = String(res.headers.location ?? "");
            if (![301, 302, 307, 308].includes(res.status)) throw new CheckFailure(`GET http://${host}/ answered ${res.status} instead of redirecting to HTTPS`);
            let target: URL | undefined;
            try {
                target = new URL(location, plain);
            } catch {
                target = undefined;
            }
            if (!target || target.protocol !== "https:" || target.hostname !== host) {
                throw new CheckFailure(`GET http://${host}/ redirects to ${location ? `'${location}'` : "nowhere"}, not to https://${host}/`);
            }
        },
    };
}

function hstsCheck(role: Role): CheckDefinition {
    return {
        id: `hsts-${role}`,
        step: "5",
        title: `the ${role} host sets HSTS`,
        attempt: async ({ facts, http }, timeoutMs) => {
            const { url } = base(facts, role);
            const res = await http.request(`${url}/`, { timeoutMs });
            if (res.status >= 500) throw new TransientFailure(`GET ${url}/ answered ${res.status}`);
            const hsts = String(res.headers["strict-transport-security"] ?? "");
            if (!hsts) throw new CheckFailure("no Strict-Transport-Security header");
            const maxAge = /max-age\s*=\s*"?(\d+)"?/i.exec(hsts);
            if (!maxAge) throw new CheckFailure(`Strict-Transport-Security '${hsts}' has no max-age`);
            if (Number(maxAge[1]) < MIN_HSTS_SECONDS) throw new CheckFailure(`HSTS max-age is ${maxAge[1]} s, less than ${MIN_HSTS_SECONDS} (180 days)`);
        },
    };
}

export function hostChecks(): CheckDefinition[] {
    return (["backoffice", "api"] as const).flatMap((role) => [httpsCheck(role), redirectCheck(role), hstsCheck(role)]);
}
