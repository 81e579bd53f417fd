/**
 * The configuration's shapes: a bank's data, the platform settings, the settings the program runs on, and
 * every config key the program reads. Pure data and types (no Pulumi import): every layer above reads them.
 */
import type { BankNames } from "./names";
import type { EdgeSettings } from "./routing";
import type { SigningAlgorithm } from "./signing";

/** How host certificates are obtained. */
export type TlsMode = "cert-manager" | "self-signed" | "provided";
export const TLS_MODES: readonly TlsMode[] = ["cert-manager", "self-signed", "provided"];

/** One JWT signing key. Two slots exist only while a key is being rotated. */
export interface SigningKeySlot {
    /** Stable name of the key's slot ("a", "b"): the key's identity in state, so rotation never renames it. */
    slot: string;
    /** JWS algorithm the key signs with. */
    algorithm: SigningAlgorithm;
    /** RSA modulus length; only for RS256/PS256. */
    rsaBits?: number;
}

/** The bank's own data (one `stacks/Pulumi.<alias>.yaml`). */
export interface BankConfig {
    /** The bank's alias: the stack name and part of every host name. */
    alias: string;
    /** Human-readable name of the bank, as registered in the Processing Center. */
    displayName: string;
    /** ISO 4217 code of the counterparty's asset (plan step 3). */
    assetCode: string;
    /** Email of the bank's first backoffice employee (plan steps 8, 9). */
    firstEmployeeEmail: string;
    /** Base URL of the bank's authorization service, the key keeper (plan steps 1, 6, 7). */
    keyKeeperUrl: string;
    /** The signing keys; the JWKS publishes all of them. */
    signingKeys: SigningKeySlot[];
    /** Slot of the key DCM signs with now. */
    activeSigningKey: string;
    /** Kratos runs on an in-pod SQLite database with no secret to fill in (demo banks only; data is lost on restart). */
    kratosDevMode: boolean;
    /** Addresses of the Kratos database server, the only database egress (empty in dev mode). */
    kratosDatabaseCidrs: string[];
    /** Addresses of the mail server the courier submits to, its only SMTP egress (empty in dev mode). */
    kratosSmtpCidrs: string[];
}

/** Platform-wide settings (Pulumi.yaml defaults). */
export interface PlatformConfig {
    /** DNS zone of all bank hosts. */
    baseDomain: string;
    /** Environment suffix of host names, `integrate` by default. */
    environment: string;
    /** IngressClass that serves the hosts. */
    ingressClass: string;
    /** How host certificates are obtained. */
    tlsMode: TlsMode;
    /** cert-manager ClusterIssuer, for tlsMode cert-manager. */
    tlsIssuer: string;
    /** Existing TLS Secret, for tlsMode provided. */
    tlsSecretName: string;
    /** Pinned container images. */
    images: { frontend: string; kratos: string; jwksServer: string; bootstrap: string };
    /** In-cluster URL of DCM's API. */
    dcmApiUpstream: string;
    /** The edge: routing API, platform Gateway, DCM API allow-list and verification, rate limit, trusted proxies. */
    edge: EdgeSettings;
    /** Namespace of the edge's proxy pods (ingress controller or Gateway data plane), the only source admitted to the bank's public pods. */
    ingressNamespace: string;
    /** The API server's endpoint addresses (/32, /128), the only place the first-employee bootstrap may write its Secret. */
    apiServerCidr: string[];
    /** Namespace where DCM's JWT signer runs: the bank's signing key Secret is created there. */
    signerNamespace: string;
    /** DCM's signer's service account in signerNamespace, the only subject allowed to read the signing key Secret. */
    signerServiceAccount: string;
    /** A bank's keyKeeperUrl may name a private address (reached over a private link); loopback, link-local and unspecified never. */
    allowPrivateKeyKeeper: boolean;
    /** The Kubernetes provider does not wait for objects to become ready or gone (an API server without nodes: the real-component tests). */
    skipAwait: boolean;
    /** How the Pulumi Kubernetes Operator runs the fleet (`npm run fleet -- operator`); unused by the program itself. */
    operator: OperatorSettings;
}

/** Platform settings of the fleet on the Pulumi Kubernetes Operator (scripts/lib/engine/operator.ts). */
export interface OperatorSettings {
    /** Namespace holding every bank's Stack object, its workspace ServiceAccount and the credentials Secret. */
    namespace: string;
    /** The shared state backend every workspace logs into (s3://, gs://, azblob:// or https://; never file://). */
    backend: string;
    /** Git repository (https) the workspaces clone the program from, at the commit `fleet -- operator` pins. */
    programRepo: string;
    /** Secret in `namespace` holding PULUMI_CONFIG_PASSPHRASE and the backend's credentials, referenced by key, never copied. */
    credentialsSecret: string;
    /** Seconds between two resyncs (refresh, then up) of a Stack: how soon drift shows in its status. */
    resyncSeconds: number;
    /** Image of the workspace pod (the Pulumi CLI with Node.js, nonroot), pinned as name:tag@sha256:<digest>. */
    workspaceImage: string;
}

/** Backends a workspace pod can share with every other: a file backend lives and dies with one pod or one laptop. */
export const OPERATOR_BACKEND_SCHEMES: readonly string[] = ["s3:", "gs:", "azblob:", "https:"];
/** The operator's floor (its Stack API refuses shorter) and a day: a slower resync finds drift too late to act. */
export const OPERATOR_RESYNC_RANGE = { min: 60, max: 86_400 } as const;

/** Everything the program needs, validated, plus the names derived from it. */
export interface StackSettings extends BankNames {
    bank: BankConfig;
    platform: PlatformConfig;
}

/** One broken rule in a configuration. */
export interface ConfigProblem {
    /** Config key as written in the stack file, without the project namespace. */
    key: string;
    /** What is wrong and what is expected. */
    message: string;
}

export type ValidationResult = { ok: true; settings: StackSettings } | { ok: false; problems: ConfigProblem[] };

type KeyScope = "bank" | "platform";
/** Every config key the program reads: unknown keys are errors, so a typo never silently falls back to a default. */
export const CONFIG_KEYS: Readonly<Record<string, { scope: KeyScope; doc: string; secret?: boolean }>> = {
    alias: { scope: "bank", doc: "The bank's alias; must equal the stack name." },
    displayName: { scope: "bank", doc: "The bank's name as registered in the Processing Center." },
    assetCode: { scope: "bank", doc: "ISO 4217 code of the counterparty's asset. Default UAH." },
    firstEmployeeEmail: { scope: "bank", doc: "Email of the first backoffice employee." },
    keyKeeperUrl: { scope: "bank", doc: "https base URL of the bank's key keeper (authorization service)." },
    signingKeys: { scope: "bank", doc: "JWT signing keys by slot: [{slot, algorithm, rsaBits?}]. Default one ES256 key in slot a." },
    activeSigningKey: { scope: "bank", doc: "Slot of the key DCM signs with. Default: the first slot." },
    baseDomain: { scope: "platform", doc: "DNS zone of all bank hosts." },
    environment: { scope: "platform", doc: "Environment suffix of host names." },
    ingressClass: { scope: "platform", doc: "IngressClass that serves the hosts." },
    tlsMode: { scope: "platform", doc: "cert-manager, self-signed or provided." },
    tlsIssuer: { scope: "platform", doc: "cert-manager ClusterIssuer (tlsMode cert-manager)." },
    tlsSecretName: { scope: "platform", doc: "Existing TLS Secret (tlsMode provided)." },
    frontendImage: { scope: "platform", doc: "Backoffice Frontend image, pinned." },
    kratosImage: { scope: "platform", doc: "Ory Kratos image, pinned." },
    jwksServerImage: { scope: "platform", doc: "JWKS static server image, pinned." },
    dcmApiUpstream: { scope: "platform", doc: "DCM's API Service over https: https://<service>.<namespace>.svc.cluster.local:<port>." },
    routing: { scope: "platform", doc: "gateway-api (default) or ingress-nginx (unmaintained upstream; legacy clusters only)." },
    gatewayName: { scope: "platform", doc: "Name of the platform's Gateway the bank's ListenerSet attaches to (gateway-api)." },
    gatewayNamespace: { scope: "platform", doc: "Namespace of the platform's Gateway (gateway-api)." },
    gatewayListeners: { scope: "platform", doc: "listener-set (default: a ListenerSet on the platform's Gateway) or bank-gateway (a Gateway per bank, for implementations without ListenerSet, e.g. Traefik v3.7)." },
    gatewayClassName: { scope: "platform", doc: "GatewayClass of the bank's own Gateway (gatewayListeners bank-gateway)." },
    edgeRateLimit: { scope: "platform", doc: "Rate limit on /.ory in gateway-api mode: envoy-gateway (BackendTrafficPolicy), traefik (a Middleware; needs gatewayListeners bank-gateway) or none (the edge has no rate limit). Default none." },
    trustedProxyCidrs: { scope: "platform", doc: "Source ranges of the proxy in front of the edge, whose X-Forwarded-For names the client (rate limits); empty when clients connect directly." },
    dcmApiPaths: { scope: "platform", doc: "Path prefixes of DCM's API the api host forwards (allow-list; default the paths of plan steps 12-16)." },
    dcmApiCa: { scope: "platform", doc: "Object in DCM's namespace whose ca.crt verifies DCM's API: ConfigMap (gateway-api) or Secret (ingress-nginx)." },
    kratosDsn: { scope: "bank", secret: true, doc: "Secret: PostgreSQL DSN of the bank's Kratos database (postgres://..., port 5432)." },
    kratosSmtpUri: { scope: "bank", secret: true, doc: "Secret: SMTP URI of the Kratos courier (smtps://... or smtp://..., port 465 or 587)." },
    kratosMigrationDsn: { scope: "bank", secret: true, doc: "Secret: PostgreSQL DSN with DDL rights, used only by the Kratos migrations Job (the server's kratosDsn has none)." },
    kratosDatabaseCidrs: { scope: "bank", doc: "Addresses of the Kratos database server (list of CIDRs, at most /24 wide); its only database egress. Required unless dev mode." },
    kratosSmtpCidrs: { scope: "bank", doc: "Addresses of the courier's mail server (list of CIDRs, at most /24 wide); its only SMTP egress. Required unless dev mode." },
    kratosDevMode: { scope: "bank", doc: "true: Kratos on an in-pod SQLite database, no secrets needed (demo banks only). Default false." },
    bootstrapImage: { scope: "platform", doc: "Node.js image of the first-employee bootstrap Job, pinned." },
    ingressNamespace: { scope: "platform", doc: "Namespace of the edge's proxy pods (admitted by the NetworkPolicies). Default gatewayNamespace (gateway-api) or ingress-nginx." },
    apiServerCidr: { scope: "platform", doc: "The API server's endpoint addresses, each /32 or /128 (kubectl get endpoints kubernetes -n default); no default." },
    signerNamespace: { scope: "platform", doc: "Namespace of DCM's JWT signer; the signing key Secret lives there. Default dcm-platform." },
    signerServiceAccount: { scope: "platform", doc: "Service account of DCM's JWT signer, the only reader of the signing key Secret. Default dcm-signer." },
    allowPrivateKeyKeeper: { scope: "platform", doc: "true: a keyKeeperUrl may name a private address (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7). Default false." },
    operatorNamespace: { scope: "platform", doc: "Namespace of the banks' Stack objects, workspace service accounts and the credentials Secret (npm run fleet -- operator). Default dcm-fleet." },
    operatorBackend: { scope: "platform", doc: "Shared Pulumi state backend of the operator's workspaces: s3://, gs://, azblob:// or https://; never file://." },
    operatorProgramRepo: { scope: "platform", doc: "https URL of the git repository the operator's workspaces clone the program from (at the commit fleet -- operator pins)." },
    operatorCredentialsSecret: { scope: "platform", doc: "Secret in operatorNamespace holding PULUMI_CONFIG_PASSPHRASE and the backend's credentials, referenced by key. Default dcm-fleet-pulumi." },
    operatorResyncSeconds: { scope: "platform", doc: "Seconds between two resyncs (refresh, then up) of a bank's Stack: 60 to 86400. Default 600." },
    operatorWorkspaceImage: { scope: "platform", doc: "Image of the operator's workspace pods (Pulumi CLI with Node.js, nonroot), pinned." },
    skipAwait: { scope: "platform", doc: "true: every object carries pulumi.com/skipAwait, so pulumi up does not wait for pods, Jobs or load balancers; only for an API server without nodes (npm run test:real). Default false." },
};

/** Config keys read with getSecret: the program passes SECRET_PRESENT for them and checks the value inside its Output. */
export const SECRET_KEYS: readonly string[] = Object.keys(CONFIG_KEYS).filter((k) => CONFIG_KEYS[k].secret);
/** Stands for a secret key's value when only its presence is known (the value stays in a secret Output). */
export const SECRET_PRESENT = "<secret>";

/** Reads the raw value of one key; what the stack file holds (strings, or objects for structured keys). */
export type RawConfig = Readonly<Record<string, unknown>>;

/** One line per problem, each naming the key (with the project namespace) and the rule. */
export function formatProblems(problems: readonly ConfigProblem[], namespace: string, stackName: string): string {
    const head = `Invalid configuration for stack '${stackName}' (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:`;
    return [head, ...problems.map((p) => `  - ${namespace}:${p.key} ${p.message}`)].join("\n");
}
