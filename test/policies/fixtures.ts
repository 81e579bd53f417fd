/**
 * A compliant bank stack as policies see it (the shape fromRecorded produces), built by hand so each test
 * can change one field: Stack outputs, namespace, default deny, frontend, Kratos, JWKS server, Ingresses,
 * the first-employee Job, keys and secrets.
 */
import * as crypto from "node:crypto";
import type { PolicyResource } from "../../policies/evaluate";
import { gatewayObjects } from "../../components/gateway-routes";
import { DEFAULT_DCM_API_PATHS } from "../../domain/routing";

export const PROJECT = "dcm-integration";
export const STACK = "demo";
export const NAMESPACE = "bank-demo-integrate";
export const BACKOFFICE_HOST = "backoffice-demo-integrate.dcm.example.com";
export const API_HOST = "api-demo-integrate.dcm.example.com";
/** The first-employee Job's pod labels: the admin-client label admits it, and only it, to Kratos admin. */
const BOOTSTRAP_POD_LABELS = { "dcm/role": "first-employee-bootstrap", "dcm/kratos-admin-client": "first-employee-bootstrap" };
/** DCM's signer's namespace and the bank's signing-key Secret in it. */
export const SIGNER_NAMESPACE = "dcm-platform";
export const SIGNER_SECRET = "jwt-signing-key-demo-integrate";
/** Digest of the fixture's own (DCM-registry) images: a test value, every image must carry one (name:tag@sha256:...). */
const DCM_TEST_DIGEST = `sha256:${"d".repeat(64)}`;
/** Planted in every secret value of the fixture: no violation message may contain it. */
export const CANARY = "CANARY7f3c";

const LABELS = {
    "app.kubernetes.io/part-of": "dcm-integration",
    "app.kubernetes.io/instance": "demo-integrate",
    "app.kubernetes.io/managed-by": "pulumi",
    "dcm/alias": "demo",
    "dcm/asset-code": "USD",
    "dcm/environment": "integrate",
};

/** A URN as the engine makes it; parentTypes are the types of the resource's component parents, outermost first. */
export function urnOf(type: string, name: string, stack = STACK, parentTypes: string[] = []): string {
    return `urn:pulumi:${stack}::${PROJECT}::${[...parentTypes, type].join("$")}::${name}`;
}

function resource(type: string, name: string, props: Record<string, unknown>, extra: Partial<PolicyResource> = {}, parentTypes: string[] = []): PolicyResource {
    return { urn: urnOf(type, name, STACK, parentTypes), type, name, props, protect: false, ...extra };
}

const SIGNING_KEY_URN = urnOf("tls:index/privateKey:PrivateKey", "jwt-signing-key-a-keypair", STACK, ["dcm:integration:JwtSigningKey"]);
const PASSWORD_URN = urnOf("random:index/randomPassword:RandomPassword", "key-keeper-identification", STACK, ["dcm:integration:KeyKeeperSecrets"]);

/** A container that meets every container rule. */
export function container(name: string, image: string, port: number): Record<string, unknown> {
    return {
        name,
        image,
        ports: [{ name: "http", containerPort: port }],
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            runAsNonRoot: true,
            seccompProfile: { type: "RuntimeDefault" },
        },
        readinessProbe: { httpGet: { path: "/health/ready", port } },
        livenessProbe: { httpGet: { path: "/health/alive", port } },
    };
}

function podSpec(containers: Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
        containers,
        ...extra,
    };
}

function deployment(name: string, app: string, replicas: number, spec: Record<string, unknown>): PolicyResource {
    const labels = { ...LABELS, "app.kubernetes.io/name": app };
    return resource("kubernetes:apps/v1:Deployment", name, {
        apiVersion: "apps/v1", kind: "Deployment",
        metadata: { name: app, namespace: NAMESPACE, labels },
        spec: {
            replicas,
            selector: { matchLabels: { "app.kubernetes.io/name": app } },
            template: { metadata: { labels }, spec },
        },
    });
}

function pdb(name: string, app: string): PolicyResource {
    return resource("kubernetes:policy/v1:PodDisruptionBudget", name, {
        apiVersion: "policy/v1", kind: "PodDisruptionBudget",
        metadata: { name: app, namespace: NAMESPACE, labels: LABELS },
        spec: { minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": app } } },
    });
}

function service(name: string, ports: Record<string, unknown>[]): PolicyResource {
    return resource("kubernetes:core/v1:Service", name, {
        apiVersion: "v1", kind: "Service",
        metadata: { name, namespace: NAMESPACE, labels: LABELS },
        spec: { selector: { "app.kubernetes.io/name": name.replace(/-(public|admin)$/, "") }, ports },
    });
}

function ingress(name: string, host: string, backend: { service: string; port: number }, more: { path: string; service: string; port: number }[] = []): PolicyResource {
    const path = (p: string, b: { service: string; port: number }) => ({ path: p, pathType: "Prefix", backend: { service: { name: b.service, port: { number: b.port } } } });
    return resource("kubernetes:networking.k8s.io/v1:Ingress", name, {
        apiVersion: "networking.k8s.io/v1", kind: "Ingress",
        metadata: { name, namespace: NAMESPACE, labels: LABELS, annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-prod" } },
        spec: {
            ingressClassName: "nginx",
            tls: [{ hosts: [host], secretName: `${name}-tls` }],
            rules: [{ host, http: { paths: [path("/", backend), ...more.map((m) => path(m.path, m))] } }],
        },
    });
}

/**
 * The gateway-api mode's objects as the program makes them (components/gateway-routes.ts), named `gw-<kind>-<name>`:
 * ListenerSet bank-hosts, HTTPRoutes backoffice, backoffice-kratos, api and http-redirect, and in DCM's namespace the
 * ReferenceGrant and BackendTLSPolicy (gw-referencegrant-dcm, gw-backendtlspolicy-dcm).
 */
function gateway(): PolicyResource[] {
    const objects = gatewayObjects({
        namespace: NAMESPACE, namespaceName: NAMESPACE, labels: LABELS, hosts: { backoffice: BACKOFFICE_HOST, api: API_HOST },
        tlsSecretNames: { backoffice: "backoffice-tls", api: "api-tls" }, clusterIssuer: "letsencrypt-prod",
        backends: { frontend: "frontend", kratosPublic: "kratos-public", kratosPublicPort: 80, jwks: "jwks-server" },
        edge: {
            routing: "gateway-api", gateway: { name: "dcm-edge", namespace: "dcm-gateway", listeners: "listener-set", className: "" }, rateLimit: "envoy-gateway", trustedProxyCidrs: ["10.20.0.0/16"],
            dcmApi: { name: "dcm-api", namespace: SIGNER_NAMESPACE, port: 8443, hostname: "dcm-api.dcm-platform.svc.cluster.local", paths: [...DEFAULT_DCM_API_PATHS], ca: "dcm-api-ca" },
        },
        kratosPath: "/.ory", kratosHiddenPrefixes: ["admin", "identities"], jwksPath: "/.well-known/jwks.json", kratosRequestsPerSecond: 5, kratosBurst: 20,
    });
    return objects.map((o) => {
        const name = o.metadata.namespace === SIGNER_NAMESPACE ? `gw-${o.kind.toLowerCase()}-dcm` : `gw-${o.kind.toLowerCase()}-${o.metadata.name}`;
        const [group, version] = o.apiVersion.split("/");
        return resource(`kubernetes:${group}/${version}:${o.kind}`, name, structuredClone(o) as unknown as Record<string, unknown>);
    });
}

/** Real key material, so shape detection is tested against what the program really produces. */
function keyPair(): { privatePem: string; publicPem: string; publicJwk: crypto.JsonWebKey } {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    return {
        privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        publicJwk: publicKey.export({ format: "jwk" }),
    };
}

const KEYS = keyPair();
export const PRIVATE_KEY_PEM = KEYS.privatePem;
export const PASSWORD = `${CANARY}-abcdefghijklmnopqrstuvwxyz0123456789ABCD`;

/** Every resource of a compliant stack: no violation of any policy, advisory ones included. */
export function compliantStack(): PolicyResource[] {
    const jwk = { ...KEYS.publicJwk, kid: "kid-1", alg: "ES256", use: "sig" };
    const stackOutputs = {
        alias: "demo",
        namespaceName: NAMESPACE,
        backofficeHost: BACKOFFICE_HOST,
        apiHost: API_HOST,
        jwksUrl: `https://${API_HOST}/.well-known/jwks.json`,
        publicKeyPem: KEYS.publicPem,
        publicJwk: jwk,
        keyKeeperUsernames: { identification: "dcm-demo-identification", processing: "dcm-demo-processing" },
        keyKeeperPasswords: { $secret: { identification: PASSWORD, processing: PASSWORD } },
        signingPrivateKeyPem: { $secret: PRIVATE_KEY_PEM },
    };
    const stackType = "pulumi:pulumi:Stack";
    const stack: PolicyResource = {
        ...resource(stackType, `${PROJECT}-${STACK}`, unwrap(stackOutputs) as Record<string, unknown>),
        markedProps: stackOutputs,
    };
    const kratos = podSpec([{
        ...container("kratos", "oryd/kratos:v1.3.1@sha256:fe2428f103a6240c064b6ea77d3088610865c55fcebccb30355857eccdc25b4b", 4433),
        args: ["serve", "all", "--config", "/etc/config/kratos.yml"],
        env: [
            { name: "DSN", valueFrom: { secretKeyRef: { name: "kratos", key: "dsn" } } },
            { name: "SECRETS_COOKIE", valueFrom: { secretKeyRef: { name: "kratos", key: "cookie" } } },
            { name: "LOG_LEVEL", value: "info" },
        ],
        volumeMounts: [{ name: "config", mountPath: "/etc/config" }],
    }], {
        initContainers: [{ ...container("migrate", "oryd/kratos:v1.3.1@sha256:fe2428f103a6240c064b6ea77d3088610865c55fcebccb30355857eccdc25b4b", 4433), readinessProbe: undefined, livenessProbe: undefined }],
        volumes: [{ name: "config", configMap: { name: "kratos-config" } }],
    });
    return [
        stack,
        resource("kubernetes:core/v1:Namespace", "bank", {
            apiVersion: "v1", kind: "Namespace",
            metadata: { name: NAMESPACE, labels: { ...LABELS, "pod-security.kubernetes.io/enforce": "restricted" } },
        }),
        resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", "bank-default-deny", {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
            metadata: { name: "default-deny-all", namespace: NAMESPACE, labels: LABELS },
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        }),
        resource("tls:index/privateKey:PrivateKey", "jwt-signing-key-a-keypair", { algorithm: "ECDSA", ecdsaCurve: "P256" }, { protect: true }, ["dcm:integration:JwtSigningKey"]),
        resource("random:index/randomPassword:RandomPassword", "key-keeper-identification", { length: 48, special: true }, { protect: true }, ["dcm:integration:KeyKeeperSecrets"]),
        // Kratos' cookie secret: neither the signing key nor a key-keeper password, so it need not be protected.
        resource("random:index/randomPassword:RandomPassword", "kratos-secret-cookie", { length: 32 }, {}, ["dcm:integration:Kratos"]),
        resource("kubernetes:core/v1:Secret", "jwt-signer", {
            apiVersion: "v1", kind: "Secret", type: "Opaque",
            // Where DCM's signer runs, readable by its service account alone (Role and RoleBinding below).
            metadata: { name: SIGNER_SECRET, namespace: SIGNER_NAMESPACE, labels: LABELS },
            stringData: { "private-key.pem": PRIVATE_KEY_PEM, kid: "kid-1", alg: "ES256" },
        }, { protect: true, dependencies: [SIGNING_KEY_URN], propertyDependencies: { stringData: [SIGNING_KEY_URN] } }),
        resource("kubernetes:rbac.authorization.k8s.io/v1:Role", "jwt-signer-reader", {
            apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role",
            metadata: { name: `${SIGNER_SECRET}-reader`, namespace: SIGNER_NAMESPACE, labels: LABELS },
            rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [SIGNER_SECRET], verbs: ["get"] }],
        }),
        resource("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "jwt-signer-reader", {
            apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding",
            metadata: { name: `${SIGNER_SECRET}-reader`, namespace: SIGNER_NAMESPACE, labels: LABELS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${SIGNER_SECRET}-reader` },
            subjects: [{ kind: "ServiceAccount", name: "dcm-signer", namespace: SIGNER_NAMESPACE }],
        }),
        resource("kubernetes:core/v1:Secret", "key-keeper-users", {
            apiVersion: "v1", kind: "Secret", type: "Opaque",
            metadata: { name: "key-keeper-users", namespace: NAMESPACE, labels: LABELS },
            stringData: { "identification.password": PASSWORD },
        }, { protect: true, dependencies: [PASSWORD_URN] }),
        resource("kubernetes:core/v1:ConfigMap", "jwt-jwks", {
            apiVersion: "v1", kind: "ConfigMap",
            metadata: { name: "jwks", namespace: NAMESPACE, labels: LABELS },
            data: { "jwks.json": JSON.stringify({ keys: [jwk] }, null, 2) },
        }),
        resource("kubernetes:core/v1:ConfigMap", "kratos-config", {
            apiVersion: "v1", kind: "ConfigMap",
            metadata: { name: "kratos-config", namespace: NAMESPACE, labels: LABELS },
            data: {
                "kratos.yml": [
                    "serve:",
                    "  public:",
                    `    base_url: https://${BACKOFFICE_HOST}/.ory`,
                    "selfservice:",
                    "  methods:",
                    "    password:",
                    "      enabled: true",
                    "      config:",
                    "        min_password_length: 12",
                    "  flows:",
                    "    registration:",
                    "      enabled: false",
                    "secrets: {}",
                    "",
                ].join("\n"),
            },
        }),
        deployment("frontend", "frontend", 2, podSpec([container("frontend", `registry.dcm.example.com/backoffice/frontend:1.14.2@${DCM_TEST_DIGEST}`, 8080)])),
        pdb("frontend-pdb", "frontend"),
        service("frontend", [{ name: "http", port: 80, targetPort: 8080 }]),
        deployment("kratos", "kratos", 2, kratos),
        pdb("kratos-pdb", "kratos"),
        service("kratos-public", [{ name: "public", port: 80, targetPort: 4433 }]),
        service("kratos-admin", [{ name: "admin", port: 80, targetPort: 4434 }]),
        deployment("jwks-server", "jwks-server", 2, podSpec([container("nginx", "nginxinc/nginx-unprivileged:1.30.5-alpine@sha256:4714e0b1b2577eaa1a6131d07c958b67f0eb68e6d0521e90c6e5287db8cf0bc5", 8080)], {
            volumes: [{ name: "jwks", configMap: { name: "jwks" } }],
        })),
        service("jwks-server", [{ name: "http", port: 80, targetPort: 8080 }]),
        ingress("backoffice", BACKOFFICE_HOST, { service: "frontend", port: 80 }, [{ path: "/.ory", service: "kratos-public", port: 80 }]),
        ingress("api", API_HOST, { service: "jwks-server", port: 80 }),
        ...gateway(),
        // ingress-nginx mode's way to DCM's API (in gateway-api mode a ReferenceGrant replaces it).
        resource("kubernetes:core/v1:Service", "dcm-api", {
            apiVersion: "v1", kind: "Service", metadata: { name: "dcm-api", namespace: NAMESPACE, labels: LABELS },
            spec: { type: "ExternalName", externalName: "dcm-api.dcm-platform.svc.cluster.local", ports: [{ name: "https", port: 8443, protocol: "TCP" }] },
        }),
        resource("kubernetes:batch/v1:Job", "first-employee", {
            apiVersion: "batch/v1", kind: "Job",
            metadata: { name: "first-employee", namespace: NAMESPACE, labels: LABELS },
            spec: {
                template: {
                    metadata: { labels: { ...LABELS, ...BOOTSTRAP_POD_LABELS } },
                    spec: podSpec([{
                        ...container("create-employee", `registry.dcm.example.com/backoffice/first-employee:1.0.0@${DCM_TEST_DIGEST}`, 8080),
                        env: [
                            { name: "EMAIL", value: "officer@demo-bank.example" },
                            { name: "KRATOS_ADMIN_URL", value: "http://kratos-admin" },
                        ],
                    }], { restartPolicy: "Never" }),
                },
            },
        }),
        resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", "kratos-admin-from-bootstrap", {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
            metadata: { name: "kratos-admin-from-bootstrap", namespace: NAMESPACE, labels: LABELS },
            spec: {
                podSelector: { matchLabels: { "app.kubernetes.io/name": "kratos" } },
                policyTypes: ["Ingress"],
                ingress: [{ from: [{ podSelector: { matchLabels: BOOTSTRAP_POD_LABELS } }], ports: [{ protocol: "TCP", port: 4434 }] }],
            },
        }),
        resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", "first-employee-bootstrap-egress", {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
            metadata: { name: "first-employee-bootstrap-egress", namespace: NAMESPACE, labels: LABELS },
            spec: {
                podSelector: { matchLabels: BOOTSTRAP_POD_LABELS },
                policyTypes: ["Egress"],
                egress: [
                    { to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "kratos" } } }], ports: [{ protocol: "TCP", port: 4434 }] },
                    { to: [{ ipBlock: { cidr: "10.96.0.1/32" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] },
                ],
            },
        }),
    ];
}

function unwrap(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrap);
    if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        if (Object.keys(o).length === 1 && "$secret" in o) return unwrap(o.$secret);
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
    }
    return v;
}

/** A deep copy of the compliant stack with one resource's props changed. */
export function withChange(name: string, change: (props: any, r: PolicyResource) => void): PolicyResource[] {
    const stack = structuredClone(compliantStack());
    const target = stack.find((r) => r.name === name);
    if (!target) throw new Error(`fixture has no resource named ${name}`);
    change(target.props, target);
    return stack;
}

/** The resource of a fixture stack by name. */
export function named(stack: PolicyResource[], name: string): PolicyResource {
    const r = stack.find((x) => x.name === name);
    if (!r) throw new Error(`fixture has no resource named ${name}`);
    return r;
}

/** One field changed in the compliant stack, and the violation it must cause. */
export interface RuleCase {
    /** What the change breaks, in words. */
    title: string;
    /** Name of the resource in the compliant stack to change. */
    resource: string;
    change: (props: any, r: PolicyResource) => void;
    /** The violation's message. */
    message: RegExp;
    /** Name of the resource the violation is reported on, when not the changed one (stack policies). */
    at?: string;
}
