/** Mandatory: a Gateway API host served without TLS or HSTS, or plain HTTP that forwards, exposes sessions and DCM tokens in clear text. */
// The Gateway API equivalent of ingress-tls: every HTTPS listener has a host name and a certificate; a plain-HTTP
// listener only redirects to https; every route names the listener it attaches to; every rule on an HTTPS listener
// sets HSTS (a Gateway adds none by itself, where ingress-nginx did by default).
import type { StackValidationPolicy } from "@pulumi/policy";
import { filtersOf, HTTP_ROUTE_TYPE, LISTENER_HOLDER_TYPES, listenerIndex, listenersOf, parentRefsOf, rulesOf, setsHsts } from "./lib/gateway";
import { isObject, nameOf, namespaceOf } from "./lib/kubernetes";

export const gatewayTls: StackValidationPolicy = {
    name: "gateway-tls",
    description: "Every HTTPS listener of a ListenerSet or Gateway has a host name and a certificate Secret; HTTP listeners only redirect to https; every HTTPS route rule sets Strict-Transport-Security.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const set of args.resources.filter((r) => LISTENER_HOLDER_TYPES.includes(r.type))) {
            listenersOf(set.props).forEach((l, i) => {
                const name = `listeners[${i}] "${String(l.name)}"`;
                if (l.protocol === "HTTPS") {
                    if (typeof l.hostname !== "string" || !l.hostname) reportViolation(`${name} has no hostname: an HTTPS listener without one serves every host with this certificate.`, set.urn);
                    const refs = isObject(l.tls) && Array.isArray(l.tls.certificateRefs) ? l.tls.certificateRefs : [];
                    if (refs.length === 0 || !refs.every((c: unknown) => isObject(c) && typeof c.name === "string" && c.name)) {
                        reportViolation(`${name} (${String(l.hostname)}) has no certificate: name its TLS Secret in tls.certificateRefs.`, set.urn);
                    }
                } else if (l.protocol !== "HTTP") {
                    reportViolation(`${name} uses protocol ${String(l.protocol)}: a bank's hosts are HTTPS (and HTTP only to redirect).`, set.urn);
                }
            });
        }
        const listeners = listenerIndex(args.resources);
        for (const route of args.resources.filter((r) => r.type === HTTP_ROUTE_TYPE)) {
            const ns = namespaceOf(route.props) ?? "";
            const attached = parentRefsOf(route.props).map((p, i) => {
                if ((p.kind === "ListenerSet" || p.kind === "Gateway" || p.kind === undefined) && typeof p.sectionName !== "string") {
                    reportViolation(`parentRefs[${i}] names no sectionName: the route would attach to every listener of ${String(p.kind ?? "Gateway")} "${String(p.name)}", plain HTTP included.`, route.urn);
                }
                return listeners.get(`${typeof p.namespace === "string" ? p.namespace : ns}/${String(p.kind ?? "Gateway")}/${String(p.name)}/${String(p.sectionName)}`);
            });
            const onHttp = attached.some((l) => l?.protocol === "HTTP");
            const onHttps = attached.some((l) => l?.protocol === "HTTPS");
            rulesOf(route.props).forEach((rule, i) => {
                const redirectsToHttps = filtersOf(rule, "RequestRedirect").some((f) => isObject(f.requestRedirect) && f.requestRedirect.scheme === "https");
                const forwards = Array.isArray(rule.backendRefs) && rule.backendRefs.length > 0;
                if (onHttp && (!redirectsToHttps || forwards)) {
                    reportViolation(`rules[${i}] of HTTPRoute "${nameOf(route.props)}" is on a plain-HTTP listener and ${forwards ? "forwards to a backend" : "does not redirect to https"}: plain HTTP may only redirect (RequestRedirect scheme https).`, route.urn);
                }
                if (onHttps && !setsHsts(rule)) {
                    reportViolation(`rules[${i}] of HTTPRoute "${nameOf(route.props)}" sets no Strict-Transport-Security: add a ResponseHeaderModifier that sets it (max-age=...).`, route.urn);
                }
            });
        }
    },
};
