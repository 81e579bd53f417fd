/**
 * The bank's edge as platform settings: which routing API serves the two hosts (the Gateway API, or the retired
 * ingress-nginx), where the platform's Gateway is, which paths of DCM's API the api host forwards and how that
 * upstream is verified, the rate limit's implementation and the proxy ranges whose X-Forwarded-For is believed.
 * Pure (no Pulumi import): validateStackConfig calls it with the other platform settings.
 */
import { cidrList, CidrListRule } from "./cidrs";

/** Which Kubernetes routing API serves the bank's hosts. */
export type Routing = "gateway-api" | "ingress-nginx";
/** `gateway-api` first: the default. ingress-nginx is unmaintained upstream since March 2026 (repository archived). */
export const ROUTINGS: readonly Routing[] = ["gateway-api", "ingress-nginx"];

/**
 * How the bank's listeners attach: `listener-set` (default) a ListenerSet on the platform's shared Gateway;
 * `bank-gateway` a Gateway of the bank's own in its namespace, for implementations without ListenerSet support
 * (Traefik v3.7's Gateway provider has none). Same listeners, same routes; only their parent differs.
 */
export type GatewayListeners = "listener-set" | "bank-gateway";
export const GATEWAY_LISTENERS: readonly GatewayListeners[] = ["listener-set", "bank-gateway"];

/**
 * The implementation-specific policy that rate-limits `/.ory` in gateway-api mode (the Gateway API has none):
 * `envoy-gateway` (a BackendTrafficPolicy), `traefik` (a Traefik Middleware the route names in an ExtensionRef
 * filter), or `none`, which leaves the edge without a rate limit, and the render and docs/security.md say so.
 */
export type EdgeRateLimit = "none" | "envoy-gateway" | "traefik";
/** The Traefik release the `traefik` rate limit's Middleware is written for, and the one test:real runs. */
export const TRAEFIK_VERSION = "v3.7.13";
export const EDGE_RATE_LIMITS: readonly EdgeRateLimit[] = ["none", "envoy-gateway", "traefik"];

/**
 * The paths of DCM's API that the bank's systems call in plan steps 12-16 (scenarios/integration.yaml), each a
 * path prefix matched segment by segment: `/v1/customers` matches `/v1/customers/7`, not `/v1/customersx`.
 */
export const DEFAULT_DCM_API_PATHS: readonly string[] = ["/v1/identifier-requests", "/v1/customer-secrets", "/v1/customers", "/v1/transfers"];

/** Most entries of the allow-list (bounded input; each becomes a route match). */
export const MAX_DCM_API_PATHS = 16;
// Segments of RFC 3986 unreserved characters: nothing a route, a regex (ingress-nginx) or YAML treats specially.
const API_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

/** Proxy ranges: a load balancer's source ranges, never the whole internet. */
export const TRUSTED_PROXY_RULE: CidrListRule = {
    singleAddresses: false, minPrefixV4: 8, minPrefixV6: 32,
    hint: "list the source ranges of the load balancer or proxy in front of the edge (its X-Forwarded-For is believed only from them), or none when clients connect directly",
};

/** DCM's API as a Service in its own namespace: what a cross-namespace backendRef names. */
export interface DcmApiService {
    /** Service name. */
    name: string;
    /** DCM's namespace (where the ReferenceGrant and BackendTLSPolicy go). */
    namespace: string;
    /** Service port. */
    port: number;
    /** The TLS server name DCM's API presents (the URL's host). */
    hostname: string;
}

/** The validated edge settings. */
export interface EdgeSettings {
    /** gateway-api (default) or ingress-nginx. */
    routing: Routing;
    /**
     * The platform's Gateway the bank's ListenerSet attaches to (gateway-api mode), how the listeners attach and,
     * for a bank Gateway, its GatewayClass.
     */
    gateway: { name: string; namespace: string; listeners: GatewayListeners; className: string };
    /** The rate-limit implementation on `/.ory` (gateway-api mode). */
    rateLimit: EdgeRateLimit;
    /** Proxy ranges whose X-Forwarded-For names the client; empty: the connection's peer is the client. */
    trustedProxyCidrs: string[];
    /** DCM's API: the Service behind dcmApiUpstream, the forwarded path prefixes and the CA that verifies it. */
    dcmApi: DcmApiService & { paths: string[]; ca: string };
}

/** The raw values of the edge keys, as the stack's config holds them. */
export interface RawEdgeConfig {
    routing?: string;
    gatewayName?: string;
    gatewayNamespace?: string;
    gatewayListeners?: string;
    gatewayClassName?: string;
    edgeRateLimit?: string;
    trustedProxyCidrs?: unknown;
    dcmApiUpstream?: string;
    dcmApiPaths?: unknown;
    dcmApiCa?: string;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// <service>.<namespace>.svc[.cluster.local]: the in-cluster name of a Service, the only kind a backendRef names.
const SERVICE_HOST = /^([a-z]([-a-z0-9]{0,61}[a-z0-9])?)\.([a-z]([-a-z0-9]{0,61}[a-z0-9])?)\.svc(\.cluster\.local)?$/;

/** DCM's API as a Service, or the rule its URL breaks (https, an in-cluster Service host, no path). */
export function dcmApiService(value: string): DcmApiService | string {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "must be an absolute https URL of DCM's API Service (https://<service>.<namespace>.svc.cluster.local:<port>)";
    }
    if (url.protocol !== "https:") {
        return `must use https: the api host forwards the bank's requests and DCM's answers, which must not cross the cluster network unencrypted or to an unverified server; got '${url.protocol.replace(":", "")}'`;
    }
    if (url.username || url.password) return "must not contain credentials (user:password@)";
    const service = SERVICE_HOST.exec(url.hostname);
    if (!service) return "must name DCM's API by its Service's in-cluster name, <service>.<namespace>.svc.cluster.local: a route names a Service, never an ExternalName or an outside host";
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) return "must have no path, query or fragment: the api host forwards the request's own path";
    return { name: service[1], namespace: service[3], port: Number(url.port || 443), hostname: url.hostname };
}

/** The rule an allow-list entry breaks, or undefined. */
export function dcmApiPathProblem(path: string): string | undefined {
    if (!API_PATH.test(path)) return "must be a path prefix such as /v1/transfers: '/' then segments of letters, digits, '.', '_', '~' and '-', no trailing '/'";
    if (path.split("/").some((segment) => segment === "." || segment === "..")) return "must not contain '.' or '..' segments";
    if (path === "/.well-known" || path.startsWith("/.well-known/")) return "must not cover /.well-known: the JWKS is served there by the bank's own server";
    return undefined;
}

/**
 * Validates the edge keys, reporting every problem through `fail` (keys as in the stack file).
 * @param raw the raw values (absent keys already replaced by Pulumi.yaml's defaults where the CLI does so)
 * @param fail records one problem
 */
export function validateEdge(raw: RawEdgeConfig, fail: (key: string, message: string) => void): EdgeSettings | undefined {
    let ok = true;
    const bad = (key: string, message: string) => {
        ok = false;
        fail(key, message);
    };
    const routing = (raw.routing ?? "gateway-api") as Routing;
    if (!ROUTINGS.includes(routing)) bad("routing", `must be one of ${ROUTINGS.join(", ")}; got '${raw.routing}'`);
    const listeners = (raw.gatewayListeners || "listener-set") as GatewayListeners;
    const gateway = { name: raw.gatewayName ?? "", namespace: raw.gatewayNamespace ?? "", listeners, className: raw.gatewayClassName ?? "" };
    if (routing === "gateway-api" || gateway.name || gateway.namespace) {
        if (!DNS_SUBDOMAIN.test(gateway.name)) bad("gatewayName", "must be the name of the platform's Gateway (a DNS subdomain)");
        if (!DNS_LABEL.test(gateway.namespace)) bad("gatewayNamespace", "must be the namespace of the platform's Gateway (a DNS label)");
    }
    if (!GATEWAY_LISTENERS.includes(listeners)) bad("gatewayListeners", `must be one of ${GATEWAY_LISTENERS.join(", ")}; got '${raw.gatewayListeners}'`);
    else if (listeners === "bank-gateway" && routing !== "gateway-api") bad("gatewayListeners", "bank-gateway applies to routing gateway-api only");
    else if (listeners === "bank-gateway" && (!DNS_SUBDOMAIN.test(gateway.className) || gateway.className.length > 253)) {
        bad("gatewayClassName", "must name the GatewayClass of the bank's Gateway (a DNS subdomain) when gatewayListeners is bank-gateway");
    }
    const rateLimit = (raw.edgeRateLimit ?? "none") as EdgeRateLimit;
    if (!EDGE_RATE_LIMITS.includes(rateLimit)) bad("edgeRateLimit", `must be one of ${EDGE_RATE_LIMITS.join(", ")}; got '${raw.edgeRateLimit}'`);
    else if (rateLimit !== "none" && routing !== "gateway-api") bad("edgeRateLimit", "applies to routing gateway-api only: in ingress-nginx mode the Ingress annotations limit /.ory");
    // Traefik serves no ListenerSet: its Middleware would limit hosts it never serves.
    else if (rateLimit === "traefik" && listeners !== "bank-gateway") bad("edgeRateLimit", "traefik needs gatewayListeners: bank-gateway (Traefik v3.7 serves no ListenerSet)");

    const trustedProxyCidrs = listOf(raw.trustedProxyCidrs);
    let proxies: string[] = [];
    if (trustedProxyCidrs === undefined) {
        bad("trustedProxyCidrs", `must be a list of CIDRs; ${TRUSTED_PROXY_RULE.hint}`);
    } else if (trustedProxyCidrs.length > 0) {
        const result = cidrList(trustedProxyCidrs, TRUSTED_PROXY_RULE);
        for (const problem of result.problems) {
            const at = /^\[(\d+)\] /.exec(problem);
            bad(at ? `trustedProxyCidrs[${at[1]}]` : "trustedProxyCidrs", at ? problem.slice(at[0].length) : problem);
        }
        proxies = result.cidrs;
    }

    const service = raw.dcmApiUpstream === undefined ? "is required" : dcmApiService(raw.dcmApiUpstream);
    if (typeof service === "string") bad("dcmApiUpstream", service);
    // Not set: the default (Pulumi.yaml declares no list default); set to an empty list: refused below.
    const paths = raw.dcmApiPaths === undefined || raw.dcmApiPaths === null ? [...DEFAULT_DCM_API_PATHS] : listOf(raw.dcmApiPaths) ?? [];
    if (!Array.isArray(listOf(raw.dcmApiPaths))) bad("dcmApiPaths", "must be a list of path prefixes such as /v1/transfers");
    else if (paths.length === 0) bad("dcmApiPaths", "must list at least one path: the api host forwards only these to DCM's API (there is no catch-all)");
    else if (paths.length > MAX_DCM_API_PATHS) bad("dcmApiPaths", `must list at most ${MAX_DCM_API_PATHS} paths, got ${paths.length}`);
    else {
        paths.forEach((p, i) => {
            const rule = typeof p === "string" ? dcmApiPathProblem(p) : "must be a string such as /v1/transfers";
            if (rule) bad(`dcmApiPaths[${i}]`, rule);
            else if (paths.indexOf(p) !== i) bad(`dcmApiPaths[${i}]`, `'${p}' is listed twice`);
        });
    }
    const ca = raw.dcmApiCa ?? "";
    if (!DNS_SUBDOMAIN.test(ca) || ca.length > 253) {
        bad("dcmApiCa", "must name the object in DCM's namespace whose `ca.crt` verifies DCM's API (a ConfigMap in gateway-api mode, a Secret in ingress-nginx mode)");
    }
    if (!ok || typeof service === "string") return undefined;
    return { routing, gateway, rateLimit, trustedProxyCidrs: proxies, dcmApi: { ...service, paths: paths as string[], ca } };
}

/** A list setting as given: a YAML list, or one comma-separated string (`pulumi config set`); undefined when neither. */
function listOf(value: unknown): unknown[] | undefined {
    if (value === undefined || value === null || value === "") return [];
    if (Array.isArray(value)) return value;
    if (typeof value === "string") {
        // A list as the CLI passes config (JSON: Pulumi.yaml's list defaults, `config set --path`), or comma-separated.
        if (value.trimStart().startsWith("[")) {
            try {
                const parsed: unknown = JSON.parse(value);
                return Array.isArray(parsed) ? parsed : undefined;
            } catch {
                return undefined;
            }
        }
        return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    }
    return undefined;
}

/**
 * What the render and docs say about the client address and the rate limit: one line per fact, for the
 * render's output (an operator reads it before `pulumi up`).
 */
export function edgeNotes(edge: EdgeSettings): string[] {
    const notes: string[] = [];
    if (edge.routing === "ingress-nginx") {
        notes.push("routing ingress-nginx: ingress-nginx is unmaintained upstream since March 2026 (no security fixes); move to routing gateway-api (docs/devops.md)");
        notes.push(edge.trustedProxyCidrs.length > 0
            ? `the ingress-nginx controller's ConfigMap must set use-forwarded-headers: "true" together with proxy-real-ip-cidr: "${edge.trustedProxyCidrs.join(",")}" (without it X-Forwarded-For is believed from anyone and resets the /.ory rate limit)`
            : "no trusted proxy ranges: the ingress-nginx controller must not set use-forwarded-headers (the connection's peer is the client the /.ory rate limit counts)");
    } else if (edge.rateLimit === "none") {
        notes.push("NO RATE LIMIT on /.ory: the Gateway API has none and edgeRateLimit is none; name an implementation (edgeRateLimit: envoy-gateway) or limit at the platform Gateway (docs/security.md)");
    } else if (edge.rateLimit === "envoy-gateway") {
        notes.push(edge.trustedProxyCidrs.length > 0
            ? `rate limit on /.ory by Envoy Gateway per client address; X-Forwarded-For believed only from ${edge.trustedProxyCidrs.join(", ")}`
            : "rate limit on /.ory by Envoy Gateway per client address: the connection's peer (no trusted proxy ranges)");
    } else {
        notes.push("rate limit on /.ory by a Traefik Middleware: Traefik must run its kubernetesCRD provider beside the Gateway provider (the route names the Middleware in an ExtensionRef filter)");
        notes.push(edge.trustedProxyCidrs.length > 0
            ? `Traefik counts the rightmost X-Forwarded-For address outside ${edge.trustedProxyCidrs.join(", ")}; its entryPoints must set forwardedHeaders.trustedIPs to the same ranges (otherwise any client's X-Forwarded-For is kept, and rotating it resets the limit)`
            : "Traefik counts the connection's peer (no trusted proxy ranges): its entryPoints must not trust forwarded headers (no forwardedHeaders.trustedIPs or insecure)");
    }
    return notes;
}
