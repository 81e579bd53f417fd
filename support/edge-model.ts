/**
 * What the edge does with one request, read from the rendered objects of either routing mode, as the specs
 * say: the Gateway API's HTTPRoute matching (Exact before PathPrefix, longest prefix first, case-sensitive,
 * segment-wise prefixes, ReplacePrefixMatch, RequestRedirect answering before any later filter, ResponseHeaderModifier) and ingress-nginx's
 * (longest path first; with use-regex on a host every path a case-insensitive regex; rewrite-target; the
 * controller's force-ssl-redirect and its default HSTS header). `rateLimited` says which per-client limit the request
 * passes through on its way to a backend: ingress-nginx's limit-rps annotation, Envoy Gateway's BackendTrafficPolicy on
 * the route, or a Traefik Middleware the rule names in an ExtensionRef filter. test/real runs the same objects in real
 * proxies; this model lets property tests ask thousands of paths in milliseconds.
 */
import type { KubernetesObject } from "../scripts/lib/engine/manifests";

export type Outcome =
    | { kind: "backend"; service: string; namespace: string; port: number; path: string; headers: Record<string, string>; via: string; tls: boolean; rateLimited?: string }
    | { kind: "redirect"; status: number; location: string; headers: Record<string, string>; via: string }
    | { kind: "not-found" };

const NGINX = "nginx.ingress.kubernetes.io/";
/** ingress-nginx's default `hsts` settings (ConfigMap hsts: true, max-age 31536000, includeSubDomains). */
export const INGRESS_NGINX_HSTS = "max-age=31536000; includeSubDomains";

/** The outcome of `scheme://host path` against the rendered objects (Ingresses or Gateway API objects). */
export function route(objects: readonly KubernetesObject[], scheme: "http" | "https", host: string, path: string): Outcome {
    return objects.some((o) => o.kind === "HTTPRoute") ? gatewayRoute(objects, scheme, host, path) : ingressRoute(objects, scheme, host, path);
}

function segmentPrefix(prefix: string, path: string): boolean {
    if (prefix === "/") return true;
    const p = prefix.replace(/\/$/, "");
    return path === p || path.startsWith(`${p}/`);
}

function gatewayRoute(objects: readonly KubernetesObject[], scheme: "http" | "https", host: string, path: string): Outcome {
    const listeners = new Map<string, any>();
    // A ListenerSet's listeners, or the bank's own Gateway's (gatewayListeners bank-gateway).
    for (const set of objects.filter((o) => o.kind === "ListenerSet" || o.kind === "Gateway")) for (const l of (set.spec as any).listeners) listeners.set(`${set.kind}/${set.metadata.name}/${l.name}`, l);
    type Candidate = { rule: any; match: any; route: KubernetesObject; index: number };
    const candidates: Candidate[] = [];
    for (const r of objects.filter((o) => o.kind === "HTTPRoute")) {
        const spec = r.spec as any;
        if (!(spec.hostnames ?? []).includes(host)) continue;
        // The route is attached to a listener of this scheme and host.
        const attached = (spec.parentRefs ?? []).some((p: any) => {
            const l = listeners.get(`${p.kind}/${p.name}/${p.sectionName}`);
            return l && l.hostname === host && (scheme === "https" ? l.protocol === "HTTPS" : l.protocol === "HTTP");
        });
        if (!attached) continue;
        spec.rules.forEach((rule: any, index: number) => {
            for (const match of rule.matches ?? [{ path: { type: "PathPrefix", value: "/" } }]) candidates.push({ rule, match, route: r, index });
        });
    }
    const fits = candidates.filter(({ match }) => {
        const m = match.path ?? { type: "PathPrefix", value: "/" };
        return m.type === "Exact" ? path === m.value : m.type === "PathPrefix" ? segmentPrefix(m.value, path) : false;
    });
    // Precedence (HTTPRouteRule): Exact, then the longest prefix; ties by route age/name (one route per path here).
    fits.sort((a, b) => {
        const ea = a.match.path?.type === "Exact" ? 1 : 0, eb = b.match.path?.type === "Exact" ? 1 : 0;
        return eb - ea || (b.match.path?.value ?? "/").length - (a.match.path?.value ?? "/").length;
    });
    const hit = fits[0];
    if (!hit) return { kind: "not-found" };
    const headers: Record<string, string> = {};
    let rateLimited = envoyRateLimit(objects, hit.route);
    let rewritten = path;
    let redirect: Outcome | undefined;
    const via = `HTTPRoute/${hit.route.metadata.name} rules[${hit.index}]`;
    for (const f of hit.rule.filters ?? []) {
        if (f.type === "ResponseHeaderModifier") for (const h of f.responseHeaderModifier.set ?? []) headers[h.name.toLowerCase()] = h.value;
        if (f.type === "ExtensionRef" && f.extensionRef.group === "traefik.io" && f.extensionRef.kind === "Middleware") {
            const m = objects.find((o) => o.kind === "Middleware" && o.metadata.name === f.extensionRef.name && o.metadata.namespace === hit.route.metadata.namespace);
            if ((m?.spec as any)?.rateLimit) rateLimited = `Middleware/${m!.metadata.name}`;
        }
        if (f.type === "URLRewrite" && f.urlRewrite.path?.type === "ReplacePrefixMatch") {
            const prefix = hit.match.path.value.replace(/\/$/, "");
            const rest = path.slice(prefix.length);
            const replacement = f.urlRewrite.path.replacePrefixMatch;
            rewritten = replacement === "/" ? (rest.startsWith("/") ? rest : `/${rest}`) : `${replacement}${rest}`;
        }
        if (f.type === "RequestRedirect") {
            const r = f.requestRedirect;
            const target = r.path?.type === "ReplaceFullPath" ? r.path.replaceFullPath : path;
            // The redirect answers at once: a filter after it never runs (as in real Traefik, which chains filters in
            // order; the spec leaves the order open, so the strictest reading is modelled).
            redirect = { kind: "redirect", status: r.statusCode ?? 302, location: `${r.scheme ?? scheme}://${r.hostname ?? host}${target}`, headers: { ...headers }, via };
            break;
        }
    }
    if (redirect) return redirect;
    const ref = hit.rule.backendRefs?.[0];
    if (!ref) return { kind: "not-found" };
    return {
        kind: "backend", service: ref.name, namespace: ref.namespace ?? hit.route.metadata.namespace ?? "", port: ref.port, path: rewritten, headers, via,
        tls: backendTls(objects, ref, hit.route), ...(rateLimited ? { rateLimited } : {}),
    };
}

/** An Envoy Gateway BackendTrafficPolicy with a rate limit targeting the route (in its namespace), by name. */
function envoyRateLimit(objects: readonly KubernetesObject[], route: KubernetesObject): string | undefined {
    const policy = objects.find((o) => o.kind === "BackendTrafficPolicy" && o.metadata.namespace === route.metadata.namespace && (o.spec as any).rateLimit
        && (o.spec as any).targetRefs.some((t: any) => t.kind === "HTTPRoute" && t.name === route.metadata.name));
    return policy && `BackendTrafficPolicy/${policy.metadata.name}`;
}

/** A BackendTLSPolicy targets the backend's Service (in its namespace) with a CA and a hostname. */
function backendTls(objects: readonly KubernetesObject[], ref: any, route: KubernetesObject): boolean {
    const ns = ref.namespace ?? route.metadata.namespace;
    return objects.some((o) => o.kind === "BackendTLSPolicy" && o.metadata.namespace === ns
        && (o.spec as any).targetRefs.some((t: any) => t.kind === "Service" && t.name === ref.name)
        && ((o.spec as any).validation.caCertificateRefs?.length > 0 || (o.spec as any).validation.wellKnownCACertificates) && (o.spec as any).validation.hostname);
}

function ingressRoute(objects: readonly KubernetesObject[], scheme: "http" | "https", host: string, path: string): Outcome {
    const paths = objects.filter((o) => o.kind === "Ingress").flatMap((i: any) => (i.spec.rules ?? [])
        .filter((r: any) => r.host === host)
        .flatMap((r: any) => r.http.paths.map((p: any) => ({ ingress: i, p }))));
    if (paths.length === 0) return { kind: "not-found" };
    const annotations = (i: any) => i.metadata.annotations ?? {};
    const regex = paths.some(({ ingress }) => annotations(ingress)[`${NGINX}use-regex`] === "true");
    const sorted = [...paths].sort((a, b) => b.p.path.length - a.p.path.length);
    const hit = sorted.find(({ p }) => (regex || p.pathType === "ImplementationSpecific" ? new RegExp(`^${p.path}`, "i").test(path)
        : p.pathType === "Exact" ? path === p.path : segmentPrefix(p.path, path)));
    if (!hit) return { kind: "not-found" };
    const a = annotations(hit.ingress);
    const via = `Ingress/${hit.ingress.metadata.name}`;
    const tlsCovered = (hit.ingress.spec.tls ?? []).some((t: any) => t.hosts?.includes(host) && t.secretName);
    if (scheme === "http" && tlsCovered && (a[`${NGINX}force-ssl-redirect`] === "true" || a[`${NGINX}ssl-redirect`] !== "false")) {
        return { kind: "redirect", status: 308, location: `https://${host}${path}`, headers: {}, via };
    }
    const target = a[`${NGINX}rewrite-target`];
    const rewritten = target ? path.replace(new RegExp(hit.p.path, "i"), target.replace(/\$(\d)/g, "$$$1")) : path;
    let service = hit.p.backend.service.name as string;
    let namespace = hit.ingress.metadata.namespace as string;
    const svc = objects.find((o) => o.kind === "Service" && o.metadata.name === service && o.metadata.namespace === namespace) as any;
    if (svc?.spec?.type === "ExternalName") {
        const m = /^([^.]+)\.([^.]+)\.svc/.exec(svc.spec.externalName);
        if (m) [service, namespace] = [m[1], m[2]];
    }
    const tls = a[`${NGINX}backend-protocol`] === "HTTPS" && a[`${NGINX}proxy-ssl-verify`] === "on" && Boolean(a[`${NGINX}proxy-ssl-secret`]) && Boolean(a[`${NGINX}proxy-ssl-name`]);
    return {
        kind: "backend", service, namespace, port: hit.p.backend.service.port.number, path: rewritten,
        headers: tlsCovered && scheme === "https" ? { "strict-transport-security": INGRESS_NGINX_HSTS } : {}, via, tls,
        ...(a[`${NGINX}limit-rps`] ? { rateLimited: `${via} limit-rps` } : {}),
    };
}
