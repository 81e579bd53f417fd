/** Plan steps 5 and 11: the frontend, Kratos public through the backoffice host, Kratos admin hidden. */
import { CheckFailure, TransientFailure } from "../errors";
import type { CheckDefinition } from "./definition";

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
            attempt: async ({ facts, http }, timeoutMs) => {
                const res = await http.request(`${facts.backofficeUrl}/`, { headers: { accept: "text/html" }, timeoutMs });
                if (res.status >= 500) throw new TransientFailure(`GET ${facts.backofficeUrl}/ answered ${res.status}`);
                if (res.status !== 200) throw new CheckFailure(`GET ${facts.backofficeUrl}/ answered ${res.status}, expected 200`);
                const type = String(res.headers["content-type"] ?? "");
                if (!/^text\/html/i.test(type)) throw new CheckFailure(`content type is '${type || "none"}', expected text/html`);
                if (!/<html[\s>]|<!doctype html/i.test(res.body)) throw new CheckFailure("the body is not an HTML document");
            },
        },
        {
            id: "kratos-health",
            step: "5,11",
            title: "Kratos public is healthy through the backoffice host",
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
            attempt: async ({ facts, http }, timeoutMs) => {
                const url = `${facts.kratosPublicUrl}/self-service/login/api`;
                const res = await http.request(url, { headers: { accept: "application/json" }, timeoutMs });
                if (res.status >= 500) throw new TransientFailure(`GET ${url} answered ${res.status}`);
                if (res.status !== 200) throw new CheckFailure(`GET ${url} answered ${res.status}, expected 200 with a login flow`);
                const flow = json(res.body);
                const action = (flow?.ui as { action?: unknown } | undefined)?.action;
                if (typeof flow?.id !== "string" || typeof action !== "string") throw new CheckFailure("the answer is not a login flow (no id or ui.action)");
                // Kratos builds ui.action from serve.public.base_url: a wrong base URL breaks every login form.
                if (!action.startsWith(`${facts.kratosPublicUrl}/`)) throw new CheckFailure(`the flow posts to '${action.split("?")[0]}', not under ${facts.kratosPublicUrl}/ (check Kratos' serve.public.base_url)`);
            },
        },
        {
            id: "kratos-admin-hidden",
            step: "5,11",
            title: "the Kratos admin API is not reachable from outside",
            attempt: async ({ facts, http }, timeoutMs) => {
                const probes = [
                    `${facts.kratosPublicUrl}/admin/identities`,
                    `${facts.backofficeUrl}/admin/identities`,
                    `${facts.apiUrl}/admin/identities`,
                    `${facts.kratosPublicUrl}/admin/health/ready`,
                ];
                const answers = await Promise.all(probes.map(async (url) => ({ url, res: await http.request(url, { headers: { accept: "application/json" }, timeoutMs }) })));
                const exposed = answers.filter((a) => a.res.status >= 200 && a.res.status < 300);
                if (exposed.length) throw new CheckFailure(`Kratos admin answers from outside: ${exposed.map((a) => `GET ${new URL(a.url).pathname} -> ${a.res.status}`).join(", ")}`);
            },
        },
    ];
}
