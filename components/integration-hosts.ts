import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { TlsMode } from "../domain/config";
import type { EdgeSettings } from "../domain/routing";
import { gatewayObjects } from "./gateway-routes";
import { KRATOS_PUBLIC_PATH } from "./kratos-config";
import { JWKS_PATH } from "./jwks-server";

/** The two hosts of a bank. */
export type HostRole = "backoffice" | "api";

export interface IntegrationHostsArgs {
    /** Namespace of every object (but the ReferenceGrant and BackendTLSPolicy, in DCM's namespace). */
    namespace: pulumi.Output<string>;
    /** The same namespace's name as text (names and references in DCM's namespace). */
    namespaceName: string;
    /** Bank labels; the component adds name and component labels. */
    labels: Record<string, string>;
    /** `backoffice-<alias>-<env>.<domain>` and `api-<alias>-<env>.<domain>`. */
    hosts: Record<HostRole, string>;
    /** IngressClass that serves the hosts (routing ingress-nginx). */
    ingressClass: string;
    /** Routing API, platform Gateway, DCM's API (Service, allow-list, CA), rate limit and trusted proxies. */
    edge: EdgeSettings;
    /** TLS: cert-manager (ClusterIssuer), self-signed (CA made here) or provided (an existing Secret). */
    tls: { mode: TlsMode; issuer: string; secretName: string };
    /** Services behind the hosts (names in the namespace, port 80 unless said). */
    backends: {
        frontend: pulumi.Output<string>;
        kratosPublic: pulumi.Output<string>;
        kratosPublicPort: number;
        jwks: pulumi.Output<string>;
    };
}

const NGINX = "nginx.ingress.kubernetes.io";

/**
 * Brute-force protection on Kratos' public API (login, recovery, settings), per client IP, with
 * ingress-nginx's documented limit annotations: a sustained request rate, a burst of that times the
 * multiplier (a login page makes a few calls at once), and concurrent connections. Over the limit the
 * controller answers 503 (its limit-req-status-code default).
 */
export const KRATOS_RATE_LIMITS = {
    /** Requests per second per client IP. */
    rps: 5,
    /** Burst = rps x this, served without delay. */
    burstMultiplier: 4,
    /** Concurrent connections per client IP. */
    connections: 10,
} as const;

/**
 * Paths of Kratos public that answer with a redirect to the in-cluster admin URL (Kratos' RedirectToAdminRoute:
 * `/admin/...` and `/identities...`). Under `/.ory` on the public host they go to a path Kratos does not serve,
 * so the answer is Kratos' own 404 and the admin address never leaves the cluster.
 */
export const KRATOS_ADMIN_REDIRECT_PREFIXES = ["admin", "identities"] as const;
/** The path those requests are rewritten to: none of Kratos' routes, so a plain 404. */
export const KRATOS_HIDDEN_TARGET = "/not-public";
// A server certificate's life in self-signed mode; Pulumi renews it on the `up` after it enters the last 30 days.
const HOST_CERT_HOURS = 24 * 365;
const CA_CERT_HOURS = 24 * 365 * 5;

/**
 * The bank's two public hosts (plan step 5) with TLS on both, HSTS, and HTTP redirected to HTTPS:
 * backoffice (`/` to the frontend, `/.ory` to Kratos public with the prefix stripped, rate-limited, and its
 * admin-redirecting paths kept from Kratos) and api (`/.well-known/jwks.json` to the JWKS server, the
 * dcmApiPaths allow-list to DCM's API over verified HTTPS, nothing else). Gateway API objects (a ListenerSet on
 * the platform's Gateway and HTTPRoutes, components/gateway-routes.ts) or, in the legacy ingress-nginx mode,
 * Ingresses.
 */
export class IntegrationHosts extends pulumi.ComponentResource {
    /** `https://` URL of each host. */
    public readonly urls: Record<HostRole, string>;
    /** The TLS Secret each host's Ingresses use. */
    public readonly tlsSecretNames: Record<HostRole, string>;
    /** PEM of the CA that signed both host certificates (self-signed mode only). */
    public readonly caCertificatePem?: pulumi.Output<string>;

    constructor(name: string, args: IntegrationHostsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:IntegrationHosts", name, {}, opts);
        const { mode } = args.tls;
        if (mode === "cert-manager" && !args.tls.issuer) throw new pulumi.ResourceError(`IntegrationHosts ${name}: tlsIssuer is required for cert-manager`, this);
        if (mode === "provided" && !args.tls.secretName) throw new pulumi.ResourceError(`IntegrationHosts ${name}: tlsSecretName is required for provided`, this);
        const labels = { ...args.labels, "app.kubernetes.io/name": "integration-hosts", "app.kubernetes.io/component": "ingress" };
        const meta = (objectName: string, annotations: Record<string, pulumi.Input<string>> = {}) =>
            ({ name: objectName, namespace: args.namespace, labels, annotations });
        const roles: HostRole[] = ["backoffice", "api"];
        this.urls = { backoffice: `https://${args.hosts.backoffice}`, api: `https://${args.hosts.api}` };
        this.tlsSecretNames = Object.fromEntries(roles.map((r) => [r, mode === "provided" ? args.tls.secretName : `${r}-tls`])) as Record<HostRole, string>;

        // Secrets made here (self-signed) must exist before an Ingress names them.
        const tlsSecrets: Partial<Record<HostRole, pulumi.Output<string>>> = {};
        if (mode === "self-signed") {
            const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
            const ca = new tls.SelfSignedCert(`${name}-ca`, {
                privateKeyPem: caKey.privateKeyPem,
                subject: { commonName: `DCM integration CA ${args.hosts.backoffice.split(".")[0].replace(/^backoffice-/, "")}`, organization: "DCM" },
                isCaCertificate: true,
                validityPeriodHours: CA_CERT_HOURS,
                earlyRenewalHours: 24 * 90,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                setSubjectKeyId: true,
            }, { parent: this });
            this.caCertificatePem = ca.certPem;
            for (const role of roles) {
                const host = args.hosts[role];
                const key = new tls.PrivateKey(`${name}-${role}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
                const request = new tls.CertRequest(`${name}-${role}-csr`, {
                    privateKeyPem: key.privateKeyPem,
                    subject: { commonName: host, organization: "DCM" },
                    dnsNames: [host],
                }, { parent: this });
                const cert = new tls.LocallySignedCert(`${name}-${role}-cert`, {
                    certRequestPem: request.certRequestPem,
                    caPrivateKeyPem: caKey.privateKeyPem,
                    caCertPem: ca.certPem,
                    validityPeriodHours: HOST_CERT_HOURS,
                    earlyRenewalHours: 24 * 30,
                    allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
                    setSubjectKeyId: true,
                }, { parent: this });
                tlsSecrets[role] = new k8s.core.v1.Secret(`${name}-${role}-tls`, {
                    metadata: meta(this.tlsSecretNames[role]),
                    type: "kubernetes.io/tls",
                    stringData: {
                        // The chain: clients that trust the CA verify the host without extra configuration.
                        "tls.crt": pulumi.concat(cert.certPem, ca.certPem),
                        "tls.key": key.privateKeyPem,
                        "ca.crt": ca.certPem,
                    },
                }, { parent: this }).metadata.name;
            }
        }

        if (args.edge.routing === "gateway-api") {
            const objects = gatewayObjects({
                namespace: args.namespace, namespaceName: args.namespaceName, labels, hosts: args.hosts,
                // Self-signed: the Secrets' Outputs, so that the ListenerSet waits for them.
                tlsSecretNames: { backoffice: tlsSecrets.backoffice ?? this.tlsSecretNames.backoffice, api: tlsSecrets.api ?? this.tlsSecretNames.api },
                clusterIssuer: mode === "cert-manager" ? args.tls.issuer : undefined,
                backends: args.backends, edge: args.edge, kratosPath: KRATOS_PUBLIC_PATH, kratosHiddenPrefixes: KRATOS_ADMIN_REDIRECT_PREFIXES,
                jwksPath: JWKS_PATH, kratosRequestsPerSecond: KRATOS_RATE_LIMITS.rps, kratosBurst: KRATOS_RATE_LIMITS.rps * KRATOS_RATE_LIMITS.burstMultiplier,
            });
            for (const o of objects) {
                // Named by kind: two objects of a bank may share a name (the ReferenceGrant and BackendTLSPolicy).
                new k8s.apiextensions.CustomResource(`${name}-${o.kind.toLowerCase()}-${o.metadata.name}`, o as k8s.apiextensions.CustomResourceArgs, { parent: this });
            }
            this.registerOutputs({ urls: this.urls, tlsSecretNames: this.tlsSecretNames, caCertificatePem: this.caCertificatePem });
            return;
        }

        const common = { [`${NGINX}/ssl-redirect`]: "true", [`${NGINX}/force-ssl-redirect`]: "true" };
        // cert-manager's ingress-shim makes one Certificate per Secret: only one Ingress per host asks for it.
        const issuer: Record<string, string> = mode === "cert-manager" ? { "cert-manager.io/cluster-issuer": args.tls.issuer } : {};
        const tlsEntry = (role: HostRole) => [{ hosts: [args.hosts[role]], secretName: tlsSecrets[role] ?? this.tlsSecretNames[role] }];
        const backend = (service: pulumi.Input<string>, port: number) => ({ service: { name: service, port: { number: port } } });
        const ingress = (suffix: string, role: HostRole, annotations: Record<string, string>, paths: k8s.types.input.networking.v1.HTTPIngressPath[]) =>
            new k8s.networking.v1.Ingress(`${name}-${suffix}`, {
                metadata: meta(suffix, { ...common, ...annotations }),
                spec: {
                    ingressClassName: args.ingressClass,
                    tls: tlsEntry(role),
                    rules: [{ host: args.hosts[role], http: { paths } }],
                },
            }, { parent: this });

        ingress("backoffice", "backoffice", issuer, [
            { path: "/", pathType: "Prefix", backend: backend(args.backends.frontend, 80) },
        ]);
        const oryPath = KRATOS_PUBLIC_PATH.replace(".", "\\.");
        const kratosPublic = backend(args.backends.kratosPublic, args.backends.kratosPublicPort);
        const limits = {
            [`${NGINX}/limit-rps`]: String(KRATOS_RATE_LIMITS.rps),
            [`${NGINX}/limit-burst-multiplier`]: String(KRATOS_RATE_LIMITS.burstMultiplier),
            [`${NGINX}/limit-connections`]: String(KRATOS_RATE_LIMITS.connections),
        };
        // Kratos serves at the root: strip `/.ory` (a regex path, so ImplementationSpecific).
        ingress("backoffice-kratos", "backoffice", { [`${NGINX}/use-regex`]: "true", [`${NGINX}/rewrite-target`]: "/$2", ...limits }, [
            { path: `${oryPath}(/|$)(.*)`, pathType: "ImplementationSpecific", backend: kratosPublic },
        ]);
        // No snippet (ingress-nginx refuses them by default): a longer regex path, which ingress-nginx orders
        // before the one above, rewrites the admin-redirecting paths to one Kratos answers with 404.
        ingress("backoffice-kratos-admin-hidden", "backoffice", { [`${NGINX}/use-regex`]: "true", [`${NGINX}/rewrite-target`]: KRATOS_HIDDEN_TARGET, ...limits }, [
            { path: `${oryPath}/(${KRATOS_ADMIN_REDIRECT_PREFIXES.join("|")})(/|$).*`, pathType: "ImplementationSpecific", backend: kratosPublic },
        ]);
        ingress("api-jwks", "api", issuer, [
            { path: JWKS_PATH, pathType: "Exact", backend: backend(args.backends.jwks, 80) },
        ]);

        // DCM's API lives in another namespace: an ExternalName Service lets this namespace's Ingress name it
        // (ingress-nginx resolves it; the Gateway API mode uses a ReferenceGrant instead).
        const dcm = args.edge.dcmApi;
        const dcmApi = new k8s.core.v1.Service(`${name}-dcm-api`, {
            metadata: meta("dcm-api"),
            spec: { type: "ExternalName", externalName: dcm.hostname, ports: [{ name: "https", port: dcm.port, protocol: "TCP" }] },
        }, { parent: this });
        // HTTPS to DCM's API, its certificate verified against the CA in DCM's namespace, for its own name (SNI too).
        ingress("api-dcm", "api", {
            [`${NGINX}/upstream-vhost`]: dcm.hostname,
            [`${NGINX}/backend-protocol`]: "HTTPS",
            [`${NGINX}/proxy-ssl-verify`]: "on",
            [`${NGINX}/proxy-ssl-secret`]: `${dcm.namespace}/${dcm.ca}`,
            [`${NGINX}/proxy-ssl-name`]: dcm.hostname,
            [`${NGINX}/proxy-ssl-server-name`]: "on",
        }, dcm.paths.map((p) => ({ path: p, pathType: "Prefix", backend: backend(dcmApi.metadata.name, dcm.port) })));

        this.registerOutputs({ urls: this.urls, tlsSecretNames: this.tlsSecretNames, caCertificatePem: this.caCertificatePem });
    }
}
