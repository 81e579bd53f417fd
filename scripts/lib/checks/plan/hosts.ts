/**
 * Plan step 5: both hosts resolve and answer over HTTPS with a good certificate, redirect plain HTTP, set HSTS.
 * These judge the edge (ingress-nginx), not the pods behind it: the certificate and the HSTS header are the
 * controller's, on every answer, a 5xx of a down backend included (its `more_set_headers` applies to every
 * status). So a 5xx does not fail them: the backend's own check names that fault (jwks, frontend-html,
 * kratos-health). No api-host path would do instead: each one is some pod's (the JWKS server's, or DCM's API
 * upstream for `/`). The api host is asked for its JWKS path, which it serves itself.
 */
import { CheckFailure, TransientFailure } from "../errors";
import type { TlsProbe } from "../http";
import type { StackFacts } from "../outputs";
import type { CheckDefinition } from "./definition";

/** A certificate must stay valid at least this long. */
export const MIN_CERT_DAYS = 14;
/** Shortest acceptable HSTS max-age: 180 days (ingress-nginx's default is 182). */
export const MIN_HSTS_SECONDS = 180 * 86400;
const DAY = 86_400_000;

type Role = "backoffice" | "api";

/** The host, its base URL, and the URL its own checks ask (answered by the host's own pods). */
function base(facts: StackFacts, role: Role): { url: string; host: string; probe: string } {
    return role === "backoffice"
        ? { url: facts.backofficeUrl, host: facts.backofficeHost, probe: `${facts.backofficeUrl}/` }
        : { url: facts.apiUrl, host: facts.apiHost, probe: facts.jwksUrl };
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * What a certificate's TLS probe says: throws CheckFailure for a wrong name, a bad date or an untrusted chain;
 * one expiring within MIN_CERT_DAYS fails, or with soon = "warn" returns a warning.
 */
export function certificateVerdict(tls: TlsProbe, host: string, whose = "", soon: "fail" | "warn" = "warn"): string | undefined {
    const subject = whose ? `${whose} certificate` : "certificate";
    if (tls.identityError) throw new CheckFailure(`${subject} is not valid for ${host}: it names ${tls.altNames || tls.subject || "nothing"}`);
    const now = Date.now();
    if (tls.validTo.getTime() <= now) throw new CheckFailure(`${subject} expired on ${day(tls.validTo)}`);
    if (tls.validFrom.getTime() > now) throw new CheckFailure(`${subject} is not valid before ${day(tls.validFrom)}`);
    if (!tls.authorized) throw new CheckFailure(`${subject} does not chain to a trusted root (${tls.authorizationError ?? "unverified"}); in self-signed mode pass --ca`);
    const days = Math.floor((tls.validTo.getTime() - now) / DAY);
    if (days >= MIN_CERT_DAYS) return undefined;
    const why = `${subject} expires on ${day(tls.validTo)}, in ${days} days (fewer than ${MIN_CERT_DAYS})`;
    if (soon === "fail") throw new CheckFailure(why);
    return why;
}

function httpsCheck(role: Role): CheckDefinition {
    return {
        id: `https-${role}`,
        step: "5",
        title: `${role} host answers over HTTPS with a valid certificate`,
        needs: (facts) => [base(facts, role).url],
        attempt: async ({ facts, http }, timeoutMs) => {
            const { url, host, probe } = base(facts, role);
            certificateVerdict(await http.probeTls(url, timeoutMs), host, "", "fail");
            // Any HTTP answer, 5xx included, came over that TLS session: the host answers over HTTPS.
            await http.request(probe, { timeoutMs });
        },
    };
}

function redirectCheck(role: Role): CheckDefinition {
    return {
        id: `http-redirect-${role}`,
        step: "5",
        title: `plain HTTP to the ${role} host redirects to HTTPS`,
        needs: (facts) => [`http://${base(facts, role).host}/`],
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
                // Only the target's origin: its path or query may carry anything.
                const where = !location ? "nowhere" : target ? `'${target.protocol}//${target.host}/...'` : "an unparseable location";
                throw new CheckFailure(`GET http://${host}/ redirects to ${where}, not to https://${host}/`);
            }
        },
    };
}

function hstsCheck(role: Role): CheckDefinition {
    return {
        id: `hsts-${role}`,
        step: "5",
        title: `the ${role} host sets HSTS`,
        needs: (facts) => [base(facts, role).url],
        attempt: async ({ facts, http }, timeoutMs) => {
            const { probe } = base(facts, role);
            const res = await http.request(probe, { timeoutMs });
            const hsts = String(res.headers["strict-transport-security"] ?? "");
            // A 5xx without the header may not be the edge's (a load balancer in front of a restarting controller): retried.
            if (!hsts && res.status >= 500) throw new TransientFailure(`GET ${probe} answered ${res.status} without a Strict-Transport-Security header`);
            if (!hsts) throw new CheckFailure("no Strict-Transport-Security header");
            const maxAge = /max-age\s*=\s*"?(\d+)"?/i.exec(hsts);
            if (!maxAge) throw new CheckFailure("the Strict-Transport-Security header has no max-age");
            if (Number(maxAge[1]) < MIN_HSTS_SECONDS) throw new CheckFailure(`HSTS max-age is ${maxAge[1]} s, less than ${MIN_HSTS_SECONDS} (180 days)`);
        },
    };
}

export function hostChecks(): CheckDefinition[] {
    return (["backoffice", "api"] as const).flatMap((role) => [httpsCheck(role), redirectCheck(role), hstsCheck(role)]);
}
