/** Plan steps 5 and 11: the frontend, Kratos public through the backoffice host, Kratos admin hidden. */
import { CheckFailure, TransientFailure } from "../errors";
import type { HttpResponse } from "../http";
import type { CheckDefinition } from "./definition";

/** Members that only Kratos' admin API answers with: identities, their credentials, recovery links. */
const ADMIN_MEMBERS = ["schema_id", "traits", "recovery_addresses", "verifiable_addresses", "credentials", "metadata_admin", "recovery_link", "recovery_code"];
/** The in-cluster admin URL: the kratos-admin Service, or Kratos' admin port. */
const ADMIN_URL = /kratos-admin|:4434(?!\d)/i;

/** Network errors that mean no server is there to expose anything (a timeout or a reset might be one that is). */
const NOTHING_THERE = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH"]);

const hasAdminMembers = (v: unknown) => Boolean(v) && typeof v === "object" && ADMIN_MEMBERS.some((m) => m in (v as object));

/**
 * What an answer to an admin path reveals of Kratos admin, or undefined. Judged by the content, not the
 * status: a single-page frontend answers 200 with its index.html for every path, which reveals nothing.
 */
export function adminRevealed(res: HttpResponse, path: string): string | undefined {
    if (ADMIN_URL.test(String(res.headers.location ?? ""))) return "redirects to the in-cluster admin URL";
    if (ADMIN_URL.test(res.body)) return "names the in-cluster admin URL";
    let doc: unknown;
    try {
        doc = JSON.parse(res.body);
    } catch {
        return undefined;
    }
    const ok = res.status >= 200 && res.status < 300;
    if (Array.isArray(doc) ? doc.some(hasAdminMembers) || (ok && /\/identities$/.test(path)) : hasAdminMembers(doc)) return "answers Kratos admin JSON (identities)";
    if (ok && /\/health\/(ready|alive)$/.test(path) && (doc as { status?: unknown } | null)?.status === "ok") return "answers Kratos admin's health endpoint";
    return undefined;
}

function json(body: string): Record<string, unknown> | undefined {
    try {
        const v = JSON.parse(body) as unknown;
        return v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
    } catch {
        return undefined;
    }
}

export function backofficeChecks(): CheckDefinition[] {
    return [
        {
            id: "frontend-html",
            step: "5",
            title: "the backoffice host serves the frontend's HTML",
            needs: (facts) => [facts.backofficeUrl],
            attempt: async ({ facts, http }, timeoutMs) => {
                const res = await http.request(`${facts.backofficeUrl}/`, { headers: { accept: "text/html" }, timeoutMs });
                if (res.status >= 500) throw new TransientFailure(`GET ${facts.backofficeUrl}/ answered ${res.status}`);
                if (res.status !== 200) throw new CheckFailure(`GET ${facts.backofficeUrl}/ answered ${res.status}, expected 200`);
                const type = String(res.headers["content-type"] ?? "");
                if (!/^text\/html/i.test(type)) {
                    // Only a well-formed media type is named; parameters and anything odd are not quoted.
                    const media = type.split(";")[0].trim().toLowerCase();
                    throw new CheckFailure(`content type is ${/^[a-z0-9.+-]{1,40}\/[a-z0-9.+-]{1,60}$/.test(media) ? `'${media}'` : media ? "not a media type" : "'none'"}, expected text/html`);
                }
                if (!/<html[\s>]|<!doctype html/i.test(res.body)) throw new CheckFailure("the body is not an HTML document");
            },
        },
        {
            id: "kratos-health",
            step: "5,11",
            title: "Kratos public is healthy through the backoffice host",
            needs: (facts) => [facts.kratosPublicUrl],
            attempt: async ({ facts, http }, timeoutMs) => {
                const url = `${facts.kratosPublicUrl}/health/ready`;
                const res = await http.request(url, { headers: { accept: "application/json" }, timeoutMs });
                if (res.status >= 500) throw new TransientFailure(`GET ${url} answered ${res.status}`);
                if (res.status !== 200) throw new CheckFailure(`GET ${url} answered ${res.status}, expected 200`);
            },
        },
        {
            id: "kratos-login-flow",
            step: "11",
            title: "a Kratos login flow can be started",
            needs: (facts) => [facts.kratosPublicUrl],
            attempt: async ({ facts, http }, timeoutMs) => {
                const url = `${facts.kratosPublicUrl}/self-service/login/api`;
                const res = await http.request(url, { headers: { accept: "application/json" }, timeoutMs });
                if (res.status >= 500) throw new TransientFailure(`GET ${url} answered ${res.status}`);
                if (res.status !== 200) throw new CheckFailure(`GET ${url} answered ${res.status}, expected 200 with a login flow`);
                const flow = json(res.body);
                const action = (flow?.ui as { action?: unknown } | undefined)?.action;
                if (typeof flow?.id !== "string" || typeof action !== "string") throw new CheckFailure("the answer is not a login flow (no id or ui.action)");
                // Kratos builds ui.action from serve.public.base_url: a wrong base URL breaks every login form.
                if (!action.startsWith(`${facts.kratosPublicUrl}/`)) {
                    let where = "an unparseable URL";
                    try {
                        const u = new URL(action);
                        where = `'${u.origin}${u.pathname}'`;
                    } catch { /* stays unparseable */ }
                    throw new CheckFailure(`the flow posts to ${where}, not under ${facts.kratosPublicUrl}/ (check Kratos' serve.public.base_url)`);
                }
            },
        },
        {
            id: "kratos-admin-hidden",
            step: "5,11",
            title: "the Kratos admin API is not reachable from outside",
            needs: (facts) => [facts.backofficeUrl],
            attempt: async ({ facts, http }, timeoutMs) => {
                const probes = [
                    `${facts.kratosPublicUrl}/admin/identities`,
                    `${facts.backofficeUrl}/admin/identities`,
                    `${facts.apiUrl}/admin/identities`,
                    `${facts.kratosPublicUrl}/admin/health/ready`,
                    // Gateway API paths match case-sensitively: other cases pass the edge's hidden rule and reach
                    // Kratos, whose router must answer them without the admin address (docs/security.md).
                    `${facts.kratosPublicUrl}/ADMIN/identities`,
                    `${facts.kratosPublicUrl}/Identities`,
                ];
                const answers = await Promise.all(probes.map(async (url) => {
                    try {
                        return { url, res: await http.request(url, { headers: { accept: "application/json" }, timeoutMs }) };
                    } catch (e) {
                        // Nothing listening there (refused, no such name, no route) exposes nothing.
                        if (e instanceof TransientFailure && NOTHING_THERE.has(e.code ?? "")) return { url, res: undefined };
                        throw e;
                    }
                }));
                const exposed = answers.flatMap(({ url, res }) => {
                    const path = new URL(url).pathname;
                    const why = res && adminRevealed(res, path);
                    return why ? [`GET ${path} -> ${res.status} ${why}`] : [];
                });
                if (exposed.length) throw new CheckFailure(`Kratos admin answers from outside: ${exposed.join(", ")}`);
            },
        },
    ];
}
