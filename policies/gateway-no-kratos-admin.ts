/** Mandatory: Kratos' admin API creates and deletes identities without authentication; no HTTPRoute may reach it or reveal its address. */
// The Gateway API equivalent of ingress-no-kratos-admin and ingress-no-kratos-admin-service: no HTTPRoute reaches
// Kratos' admin API (port 4434, a port or Service named admin, or a Service port forwarding there), and where a route
// sends a prefix to Kratos public with the prefix stripped, Kratos' admin-redirecting paths under it (`admin`,
// `identities`) are caught by a longer rule that forwards nowhere: Kratos public answers those with a redirect to
// the in-cluster admin address.
import type { StackValidationPolicy } from "@pulumi/policy";
import { backendRefsOf, filtersOf, hostnamesOf, HTTP_ROUTE_TYPE, pathMatchesOf, prefixCovers, rulesOf } from "./lib/gateway";
import { KRATOS_ADMIN_PORT } from "./ingress-no-kratos-admin";
import { isObject, nameOf, namespaceOf, Obj } from "./lib/kubernetes";

const SERVICE_TYPE = "kubernetes:core/v1:Service";
/** Kratos public's paths that redirect to the admin API (Kratos' RedirectToAdminRoute). */
const ADMIN_REDIRECT_PREFIXES = ["admin", "identities"];

export const gatewayNoKratosAdmin: StackValidationPolicy = {
    name: "gateway-no-kratos-admin",
    description: "No HTTPRoute backend reaches Kratos' admin API, and Kratos' admin-redirecting paths never reach Kratos public.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const services = args.resources.filter((r) => r.type === SERVICE_TYPE);
        const routes = args.resources.filter((r) => r.type === HTTP_ROUTE_TYPE);
        for (const route of routes) {
            const ns = namespaceOf(route.props);
            rulesOf(route.props).forEach((rule, i) => {
                for (const b of backendRefsOf(rule, ns)) {
                    const where = `rules[${i}] of HTTPRoute "${nameOf(route.props)}"`;
                    if (b.port === KRATOS_ADMIN_PORT) reportViolation(`${where} routes to port ${KRATOS_ADMIN_PORT} of Service "${b.name}": the Kratos admin API must not be exposed.`, route.urn);
                    else if (/kratos.*admin|admin.*kratos/i.test(b.name)) reportViolation(`${where} routes to Service "${b.name}": the Kratos admin API must not be exposed.`, route.urn);
                    const service = services.find((s) => nameOf(s.props) === b.name && namespaceOf(s.props) === b.namespace);
                    const ports: unknown[] = service && isObject(service.props.spec) && Array.isArray(service.props.spec.ports) ? service.props.spec.ports : [];
                    const port = ports.find((p) => isObject(p) && p.port === b.port);
                    const target = isObject(port) ? port.targetPort ?? port.port : undefined;
                    if (target === KRATOS_ADMIN_PORT || (typeof target === "string" && /admin/i.test(target))) {
                        reportViolation(`${where} reaches Service "${b.name}" port ${String(b.port)} -> ${String(target)}: the Kratos admin API must not be exposed.`, route.urn);
                    }
                }
            });
        }
        // Every prefix stripped on its way to Kratos public: the admin-redirecting paths under it must end elsewhere.
        for (const route of routes) {
            const ns = namespaceOf(route.props);
            rulesOf(route.props).forEach((rule, i) => {
                const toKratos = backendRefsOf(rule, ns).some((b) => /kratos/i.test(b.name));
                const strips = filtersOf(rule, "URLRewrite").some((f) => isObject(f.urlRewrite) && isObject(f.urlRewrite.path) && f.urlRewrite.path.type === "ReplacePrefixMatch");
                if (!toKratos || !strips) return;
                for (const m of pathMatchesOf(rule).filter((x) => x.type === "PathPrefix")) {
                    for (const hidden of ADMIN_REDIRECT_PREFIXES) {
                        const probe = `${m.value.replace(/\/$/, "")}/${hidden}`;
                        const winner = bestRule(routes.map((r) => r.props), hostnamesOf(route.props), probe);
                        if (!winner || backendRefsOf(winner, ns).some((b) => /kratos/i.test(b.name))) {
                            reportViolation(`${probe} reaches Kratos public through rules[${i}] of HTTPRoute "${nameOf(route.props)}" as /${hidden}: Kratos answers it with a redirect to the in-cluster admin URL; add a longer PathPrefix rule for ${probe} that forwards nowhere.`, route.urn);
                        }
                    }
                }
            });
        }
    },
};

/** The rule a path reaches among routes sharing a hostname: Exact first, then the longest PathPrefix. */
function bestRule(routes: Obj[], hostnames: string[], path: string): Obj | undefined {
    let best: { rule: Obj; exact: boolean; length: number } | undefined;
    for (const r of routes.filter((x) => hostnamesOf(x).some((h) => hostnames.includes(h)))) {
        for (const rule of rulesOf(r)) {
            for (const m of pathMatchesOf(rule)) {
                const fits = m.type === "Exact" ? m.value === path : m.type === "PathPrefix" && prefixCovers(m.value, path);
                if (!fits) continue;
                const candidate = { rule, exact: m.type === "Exact", length: m.value.length };
                if (!best || (candidate.exact && !best.exact) || (candidate.exact === best.exact && candidate.length > best.length)) best = candidate;
            }
        }
    }
    return best?.rule;
}
