/**
 * The bank's Gateway API objects as plain data (standard channel of Gateway API v1.6.3, and Envoy Gateway
 * v1.9 policies when asked): what IntegrationHosts creates in gateway-api mode. Pure, so the routing rules
 * are tested without a render and read in one place.
 *
 * Why a per-bank ListenerSet: the bank's two hosts, their certificates and their routes live and die with the
 * bank's stack, in the bank's namespace, without the stack writing into the platform's Gateway (which every bank
 * shares, and which one bank's `pulumi destroy` must never edit). cert-manager issues for a ListenerSet's
 * listeners since 1.20. The platform's Gateway admits them with `spec.allowedListeners`.
 * With `gatewayListeners: bank-gateway` the same listeners sit on a Gateway of the bank's own instead (same name,
 * same namespace), for implementations that have no ListenerSet (Traefik v3.7): the stack still writes nothing shared.
 */
import type { EdgeSettings } from "../domain/routing";

export const GATEWAY_GROUP = "gateway.networking.k8s.io";
export const GATEWAY_API_VERSION = `${GATEWAY_GROUP}/v1`;
export const ENVOY_GATEWAY_API_VERSION = "gateway.envoyproxy.io/v1alpha1";
/** Traefik's own API group (its Middleware CRD, Traefik v3). */
export const TRAEFIK_GROUP = "traefik.io";
/** Name of the rate-limit policy on `/.ory`, whichever implementation holds it. */
export const KRATOS_RATE_LIMIT_NAME = "kratos-rate-limit";
/** Strict-Transport-Security on every HTTPS answer (ingress-nginx added this value by default; a Gateway adds nothing). */
export const HSTS_VALUE = "max-age=31536000; includeSubDomains";
/** Name of the bank's ListenerSet (or of its own Gateway, gatewayListeners bank-gateway). */
export const LISTENER_SET_NAME = "bank-hosts";

/**
 * A name given as a string, or as a value the caller resolves later (a Pulumi Output: the component passes the
 * Namespace's and Services' names so that its objects depend on them). This module only places it.
 */
export type Name = string | { apply: unknown };

/** A plain Kubernetes object (apiVersion, kind, metadata, spec). */
export interface PlainObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: Name; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: Record<string, unknown>;
}

/** What the routes need to know. */
export interface GatewayRoutesInput {
    /** The bank's namespace, placed in the metadata of the bank's objects. */
    namespace: Name;
    /** Its name as text: the ReferenceGrant names it, and DCM's namespace holds objects named after it. */
    namespaceName: string;
    /** Labels of every object. */
    labels: Record<string, string>;
    /** The two host names. */
    hosts: { backoffice: string; api: string };
    /** The TLS Secret of each host, in the bank's namespace. */
    tlsSecretNames: { backoffice: Name; api: Name };
    /** cert-manager ClusterIssuer (cert-manager mode), annotated on the ListenerSet. */
    clusterIssuer?: string;
    /** Services in the bank's namespace. */
    backends: { frontend: Name; kratosPublic: Name; kratosPublicPort: number; jwks: Name };
    /** The edge settings (platform Gateway, DCM's API, rate limit, trusted proxies). */
    edge: EdgeSettings;
    /** `/.ory`. */
    kratosPath: string;
    /** Kratos' admin-redirecting path prefixes under kratosPath (`admin`, `identities`). */
    kratosHiddenPrefixes: readonly string[];
    /** The JWKS document's path. */
    jwksPath: string;
    /** Requests per second per client on `/.ory` (edgeRateLimit envoy-gateway or traefik). */
    kratosRequestsPerSecond: number;
    /** Requests a client may send at once above that rate (edgeRateLimit traefik; Envoy's local limit has no burst). */
    kratosBurst: number;
}

type Role = "backoffice" | "api";
const https = (role: Role) => `${role}-https`;
const http = (role: Role) => `${role}-http`;

const hstsFilter = { type: "ResponseHeaderModifier", responseHeaderModifier: { set: [{ name: "Strict-Transport-Security", value: HSTS_VALUE }] } };
const prefix = (value: string) => ({ path: { type: "PathPrefix", value } });

/** The kind of the object holding the bank's listeners. */
export const listenersKind = (edge: EdgeSettings): "ListenerSet" | "Gateway" => (edge.gateway.listeners === "bank-gateway" ? "Gateway" : "ListenerSet");

/** Every Gateway API (and rate-limit policy) object of one bank, in apply order. */
export function gatewayObjects(input: GatewayRoutesInput): PlainObject[] {
    const { namespace, labels, hosts, edge } = input;
    const meta = (name: string, ns: Name = namespace, annotations?: Record<string, string>) =>
        ({ name, namespace: ns, labels, ...(annotations ? { annotations } : {}) });
    const listenerKind = listenersKind(edge);
    const parent = (role: Role, section: (r: Role) => string) => ({ group: GATEWAY_GROUP, kind: listenerKind, name: LISTENER_SET_NAME, sectionName: section(role) });
    const service = (name: Name, port: number) => ({ group: "", kind: "Service", name, port });
    const roles: Role[] = ["backoffice", "api"];

    const listenerSet: PlainObject = {
        apiVersion: GATEWAY_API_VERSION, kind: listenerKind,
        // cert-manager's gateway-shim makes one Certificate per Secret named by a listener, for that listener's hostname.
        metadata: meta(LISTENER_SET_NAME, namespace, input.clusterIssuer ? { "cert-manager.io/cluster-issuer": input.clusterIssuer } : undefined),
        spec: {
            ...(listenerKind === "Gateway"
                ? { gatewayClassName: edge.gateway.className }
                : { parentRef: { group: GATEWAY_GROUP, kind: "Gateway", name: edge.gateway.name, namespace: edge.gateway.namespace } }),
            listeners: roles.flatMap((role) => [
                {
                    name: https(role), hostname: hosts[role], port: 443, protocol: "HTTPS",
                    tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: input.tlsSecretNames[role] }] },
                    allowedRoutes: { namespaces: { from: "Same" }, kinds: [{ group: GATEWAY_GROUP, kind: "HTTPRoute" }] },
                },
                // Plain HTTP only to redirect (the http-redirect route is the only one attached here).
                { name: http(role), hostname: hosts[role], port: 80, protocol: "HTTP", allowedRoutes: { namespaces: { from: "Same" }, kinds: [{ group: GATEWAY_GROUP, kind: "HTTPRoute" }] } },
            ]),
        },
    };

    const route = (name: string, parentRefs: object[], hostnames: string[], rules: object[]): PlainObject => ({
        apiVersion: GATEWAY_API_VERSION, kind: "HTTPRoute", metadata: meta(name), spec: { parentRefs, hostnames, rules },
    });
    const backoffice = route("backoffice", [parent("backoffice", https)], [hosts.backoffice], [
        { matches: [prefix("/")], filters: [hstsFilter], backendRefs: [service(input.backends.frontend, 80)] },
    ]);
    // Its own route, so that the rate-limit policy targets /.ory and nothing else.
    const kratos = route("backoffice-kratos", [parent("backoffice", https)], [hosts.backoffice], [
        {
            // Kratos serves at the root. One PathPrefix match: ReplacePrefixMatch is defined for exactly one.
            matches: [prefix(input.kratosPath)],
            // HSTS first (it then marks the rate limit's 429 too), the limit before anything reaches Kratos.
            filters: [
                hstsFilter,
                ...(edge.rateLimit === "traefik" ? [{ type: "ExtensionRef", extensionRef: { group: TRAEFIK_GROUP, kind: "Middleware", name: KRATOS_RATE_LIMIT_NAME } }] : []),
                { type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } },
            ],
            backendRefs: [service(input.backends.kratosPublic, input.backends.kratosPublicPort)],
        },
        {
            // The longer prefixes win over /.ory (the Gateway API orders matches by path length): Kratos' public
            // handlers that redirect to the admin address never see these; the Gateway answers with a redirect to
            // the backoffice's home page. Case-sensitive: /.ory/ADMIN reaches Kratos as /ADMIN, which Kratos answers
            // without the admin address (test/real/kratos.test.ts; docs/security.md).
            matches: input.kratosHiddenPrefixes.map((p) => prefix(`${input.kratosPath}/${p}`)),
            // HSTS first: Traefik chains filters in order and its redirect answers at once, so a header filter after
            // it never runs (real Traefik v3.7.13 sent this redirect without HSTS; test/real/gateway-data-plane.test.ts).
            filters: [hstsFilter, { type: "RequestRedirect", requestRedirect: { path: { type: "ReplaceFullPath", replaceFullPath: "/" }, statusCode: 302 } }],
        },
    ]);
    const api = route("api", [parent("api", https)], [hosts.api], [
        { matches: [{ path: { type: "Exact", value: input.jwksPath } }], filters: [hstsFilter], backendRefs: [service(input.backends.jwks, 80)] },
        {
            // Only the allow-list reaches DCM's API: any other path has no rule, and the Gateway answers 404.
            matches: edge.dcmApi.paths.map(prefix),
            filters: [hstsFilter, { type: "URLRewrite", urlRewrite: { hostname: edge.dcmApi.hostname } }],
            backendRefs: [{ ...service(edge.dcmApi.name, edge.dcmApi.port), namespace: edge.dcmApi.namespace }],
        },
    ]);
    const redirect = route("http-redirect", roles.map((r) => parent(r, http)), [hosts.backoffice, hosts.api], [
        { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
    ]);

    // In DCM's namespace, named after the bank's: the grant lets this bank's HTTPRoutes (and nothing else) name
    // DCM's API Service; the TLS policy makes the Gateway verify it. Every bank's policy says the same, so
    // whichever the implementation picks (the oldest) is right, and deleting one bank leaves the others'.
    const dcmObjectName = `${input.namespaceName}-dcm-api`;
    const grant: PlainObject = {
        apiVersion: GATEWAY_API_VERSION, kind: "ReferenceGrant", metadata: meta(dcmObjectName, edge.dcmApi.namespace),
        spec: { from: [{ group: GATEWAY_GROUP, kind: "HTTPRoute", namespace: input.namespaceName }], to: [{ group: "", kind: "Service", name: edge.dcmApi.name }] },
    };
    const backendTls: PlainObject = {
        apiVersion: GATEWAY_API_VERSION, kind: "BackendTLSPolicy", metadata: meta(dcmObjectName, edge.dcmApi.namespace),
        spec: {
            targetRefs: [{ group: "", kind: "Service", name: edge.dcmApi.name }],
            validation: { caCertificateRefs: [{ group: "", kind: "ConfigMap", name: edge.dcmApi.ca }], hostname: edge.dcmApi.hostname },
        },
    };

    const objects = [listenerSet, backoffice, kratos, api, redirect, grant, backendTls];
    if (edge.rateLimit === "envoy-gateway") objects.push(...envoyGatewayPolicies(input));
    if (edge.rateLimit === "traefik") objects.push(traefikRateLimit(input));
    return objects;
}

/**
 * Traefik: a per-client rate limit as a Middleware, which the /.ory rule names. With trusted proxy ranges the
 * client is the rightmost X-Forwarded-For address outside them (what the trusted proxy appended); Traefik's
 * entryPoints drop the header from any other peer (forwardedHeaders.trustedIPs, the platform's static config).
 * Without ranges the connection's peer counts, and no header is read at all.
 */
function traefikRateLimit(input: GatewayRoutesInput): PlainObject {
    const proxies = input.edge.trustedProxyCidrs;
    return {
        apiVersion: `${TRAEFIK_GROUP}/v1alpha1`, kind: "Middleware", metadata: { name: KRATOS_RATE_LIMIT_NAME, namespace: input.namespace, labels: input.labels },
        spec: {
            rateLimit: {
                average: input.kratosRequestsPerSecond, period: "1s", burst: input.kratosBurst,
                ...(proxies.length > 0 ? { sourceCriterion: { ipStrategy: { excludedIPs: proxies } } } : {}),
            },
        },
    };
}

/** Envoy Gateway: a per-client local rate limit on the /.ory route, and the client address from trusted proxies only. */
function envoyGatewayPolicies(input: GatewayRoutesInput): PlainObject[] {
    const meta = (name: string) => ({ name, namespace: input.namespace, labels: input.labels });
    // Distinct: one bucket per client address, IPv4 and IPv6.
    const perClient = (value: string) => ({
        clientSelectors: [{ sourceCIDR: { type: "Distinct", value } }],
        limit: { requests: input.kratosRequestsPerSecond, unit: "Second" },
    });
    const out: PlainObject[] = [{
        apiVersion: ENVOY_GATEWAY_API_VERSION, kind: "BackendTrafficPolicy", metadata: meta(KRATOS_RATE_LIMIT_NAME),
        spec: {
            targetRefs: [{ group: GATEWAY_GROUP, kind: "HTTPRoute", name: "backoffice-kratos" }],
            rateLimit: { type: "Local", local: { rules: [perClient("0.0.0.0/0"), perClient("::/0")] } },
        },
    }];
    // Without trusted ranges Envoy counts the connection's peer (its default believes no X-Forwarded-For).
    if (input.edge.trustedProxyCidrs.length > 0) {
        out.push({
            apiVersion: ENVOY_GATEWAY_API_VERSION, kind: "ClientTrafficPolicy", metadata: meta("client-address"),
            spec: {
                targetRefs: [{ group: GATEWAY_GROUP, kind: listenersKind(input.edge), name: LISTENER_SET_NAME }],
                clientIPDetection: { xForwardedFor: { trustedCIDRs: input.edge.trustedProxyCidrs } },
            },
        });
    }
    return out;
}
