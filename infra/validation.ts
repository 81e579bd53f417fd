/**
 * Pure validation of a stack's configuration (plan step 8's onboarding data plus the platform settings).
 * No Pulumi import: the program, the offline render and Jira onboarding all call these functions.
 */
import * as net from "node:net";
import { API_SERVER_RULE, cidrList, CidrListRule, ipv6Groups, SERVER_RULE } from "./cidrs";
import { imageProblem } from "./images";
import { ISO_4217_CODES } from "./iso4217";

/** The pinned-image rule, shared with the policy pack (infra/images.ts). */
export { imageProblem };

/** How host certificates are obtained. */
export type TlsMode = "cert-manager" | "self-signed" | "provided";
export const TLS_MODES: readonly TlsMode[] = ["cert-manager", "self-signed", "provided"];

/** JWS algorithms DCM may sign with; each maps to one key type (RFC 7518 section 3.1). */
export type SigningAlgorithm = "ES256" | "ES384" | "ES512" | "RS256" | "PS256";
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ["ES256", "ES384", "ES512", "RS256", "PS256"];
/** Smallest RSA modulus accepted for a signing key (NIST SP 800-57: 128-bit security). */
export const MIN_RSA_BITS = 3072;

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
    /** Namespace of the ingress controller, the only source admitted to the bank's public pods. */
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
export interface StackSettings {
    bank: BankConfig;
    platform: PlatformConfig;
    /** Kubernetes namespace of the bank. */
    namespace: string;
    /** Host names: `backoffice-<alias>-<env>.<domain>` and `api-<alias>-<env>.<domain>`. */
    hosts: { backoffice: string; api: string };
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
    dcmApiUpstream: { scope: "platform", doc: "In-cluster URL of DCM's API." },
    kratosDsn: { scope: "bank", secret: true, doc: "Secret: PostgreSQL DSN of the bank's Kratos database (postgres://..., port 5432)." },
    kratosSmtpUri: { scope: "bank", secret: true, doc: "Secret: SMTP URI of the Kratos courier (smtps://... or smtp://..., port 465 or 587)." },
    kratosMigrationDsn: { scope: "bank", secret: true, doc: "Secret: PostgreSQL DSN with DDL rights, used only by the Kratos migrations Job (the server's kratosDsn has none)." },
    kratosDatabaseCidrs: { scope: "bank", doc: "Addresses of the Kratos database server (list of CIDRs, at most /24 wide); its only database egress. Required unless dev mode." },
    kratosSmtpCidrs: { scope: "bank", doc: "Addresses of the courier's mail server (list of CIDRs, at most /24 wide); its only SMTP egress. Required unless dev mode." },
    kratosDevMode: { scope: "bank", doc: "true: Kratos on an in-pod SQLite database, no secrets needed (demo banks only). Default false." },
    bootstrapImage: { scope: "platform", doc: "Node.js image of the first-employee bootstrap Job, pinned." },
    ingressNamespace: { scope: "platform", doc: "Namespace of the ingress controller (admitted by the NetworkPolicies)." },
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
// The offline render's stand-in for a `secure:` value it cannot decrypt (scripts/lib/stack-config.ts).
const OFFLINE_PLACEHOLDER = /^offline-placeholder-for-[A-Za-z]+$/;

/**
 * The rule a secret value breaks, or undefined. Never quotes the value. The offline render's placeholder passes.
 * @param key kratosDsn, kratosMigrationDsn or kratosSmtpUri
 */
export function secretValueProblem(key: string, value: string): string | undefined {
    if (value === SECRET_PRESENT || OFFLINE_PLACEHOLDER.test(value)) return undefined;
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "must be an absolute URL (the value is not shown: it is secret)";
    }
    if (key === "kratosDsn" || key === "kratosMigrationDsn") {
        if (!["postgres:", "postgresql:"].includes(url.protocol)) return "must be a PostgreSQL DSN (postgres://user:password@host:5432/db)";
        if (!url.hostname) return "must name the database host";
        if (url.port && url.port !== "5432") return "must use port 5432: the Kratos NetworkPolicy admits only that database port";
        // pgx's default (prefer) and disable/allow/require may talk in plaintext or to any server holding a certificate.
        const modes = url.searchParams.getAll("sslmode");
        if (modes.length !== 1 || !VERIFYING_SSLMODES.includes(modes[0])) {
            return `must verify the database server's certificate: add sslmode=verify-full (or verify-ca) once, e.g. postgres://user:password@host:5432/db?sslmode=verify-full (outside dev mode no other mode is accepted)`;
        }
        return undefined;
    }
    if (key === "kratosSmtpUri") {
        if (!["smtp:", "smtps:"].includes(url.protocol)) return "must be an smtp:// or smtps:// URI";
        if (!url.hostname) return "must name the SMTP host";
        const port = url.port || (url.protocol === "smtps:" ? "465" : "587");
        if (!SMTP_PORTS.includes(port)) return `must use port ${SMTP_PORTS.join(" or ")}: the Kratos NetworkPolicy admits only those`;
        // Kratos reads these with Go's strconv.ParseBool: anything but a false value turns the protection off.
        for (const flag of ["disable_starttls", "skip_ssl_verify"]) {
            if (url.searchParams.getAll(flag).some((v) => !GO_FALSE.includes(v))) {
                return `must not set ${flag}: mail (recovery links) would travel unencrypted or to an unverified server (outside dev mode)`;
            }
        }
        return undefined;
    }
    return undefined;
}

/** sslmode values under which pgx checks the server's certificate (verify-full also its host name). */
const VERIFYING_SSLMODES: readonly string[] = ["verify-full", "verify-ca"];
/** Values Go's strconv.ParseBool reads as false. */
const GO_FALSE: readonly string[] = ["0", "f", "F", "false", "FALSE", "False"];

/** Submission ports the Kratos courier may reach (RFC 8314 implicit TLS, RFC 6409 submission). */
export const SMTP_PORTS: readonly string[] = ["465", "587"];

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_RULE = "must be a DNS label: lowercase letters, digits and '-', starting with a letter and not ending with '-'";
const MAX_LABEL = 63;
const MAX_HOST = 253;
const SLOT = /^[a-z][a-z0-9]{0,15}$/;

/** The fields of the bank's onboarding data (plan step 8), as a Jira onboarding task carries them. */
export const BANK_FIELDS = ["alias", "displayName", "firstEmployeeEmail", "keyKeeperUrl", "assetCode"] as const;
export type BankField = (typeof BANK_FIELDS)[number];

/** The platform settings the step-8 rules depend on. */
export interface BankFieldContext {
    /** Environment suffix of the host names: it shares a DNS label with the alias. */
    environment: string;
    /** DNS zone of the hosts: it shares the 253-character host name with the alias. */
    baseDomain: string;
    /** Whether a keyKeeperUrl may name a private address. */
    allowPrivateKeyKeeper: boolean;
}

/**
 * One step-8 field's rule as data: validateStackConfig checks it and the JSON Schema
 * (scripts/lib/bank-fields-schema.ts) states it, so the two cannot disagree. Patterns are ECMA-262 in
 * unicode mode (the `u` flag, as JSON Schema validators such as Ajv match them); lengths count code
 * points, as JSON Schema does. Every field also refuses REFUSED_CHARACTER_CLASS (characterProblem).
 */
export interface BankFieldRule {
    /** The field must be given (an empty Jira field is no value); otherwise `default` applies. */
    required: boolean;
    /** The value of an absent field. */
    default?: string;
    /** Anchored pattern the value matches. With `beyondSchema`, only the schema states it. */
    pattern?: string;
    /** Fewest code points. */
    minLength?: number;
    /** Most code points. */
    maxLength?: number;
    /** The only values allowed. */
    enum?: readonly string[];
    /** The rule in words: the schema's description, and the start of the validator's message (with `beyondSchema`, the validator's messages are its own). */
    rule: string;
    /**
     * What the validator checks in code that a JSON Schema cannot state. Undefined: the schema states the
     * whole rule. Set: the schema's pattern is stricter than the validator (what it accepts, the validator
     * accepts), and this text goes into the schema's $comment.
     */
    beyondSchema?: string;
}

// Deliberately simple: one @, a non-empty local part without spaces, and a dotted domain of DNS labels.
// Letters spelt out in both cases: a JSON Schema pattern has no `i` flag (and /[a-z]/iu would match the Kelvin sign).
const EMAIL_PATTERN = "^[^\\s@<>()\",;:]+@([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,63}$";
// Not a browser's URL parser: https, a lowercase DNS host name whose last label starts with a letter (so never
// an IP address, which a URL parser would also read from forms such as 0x7f.1 or 2130706433), an optional
// port 1-65535, and a path and query of RFC 3986 characters; no credentials, no fragment.
const URL_PCHAR = "(?:[-A-Za-z0-9._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})";
const KEY_KEEPER_URL_PATTERN = "^https://(?!(?:[a-z0-9-]+\\.)*localhost(?:[:/?]|$))"
    + "(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"
    + "(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    + `(?:/${URL_PCHAR}*)?(?:\\?(?:${URL_PCHAR}|\\?)*)?$`;

const DISPLAY_NAME_MAX = 100;

/** The longest alias whose host names fit DNS: `backoffice-<alias>-<environment>` is one label, and the host at most 253 characters. */
export function aliasLimits(environment: string, baseDomain?: string): { label: number; host: number } {
    const fixed = `backoffice--${environment}`.length;
    return { label: MAX_LABEL - fixed, host: baseDomain === undefined ? Infinity : MAX_HOST - fixed - 1 - baseDomain.length };
}

/** The rules of the step-8 fields under a platform's settings (the alias' length depends on them). */
export function bankFieldRules(context: BankFieldContext): Readonly<Record<BankField, BankFieldRule>> {
    const limits = aliasLimits(context.environment, context.baseDomain);
    return {
        alias: { required: true, pattern: DNS_LABEL.source, minLength: 1, maxLength: Math.min(limits.label, limits.host), rule: DNS_LABEL_RULE },
        displayName: {
            required: true, pattern: "^\\S(.*\\S)?$", minLength: 1, maxLength: DISPLAY_NAME_MAX,
            rule: `must be 1 to ${DISPLAY_NAME_MAX} printable characters without leading or trailing spaces`,
        },
        firstEmployeeEmail: { required: true, pattern: EMAIL_PATTERN, minLength: 1, maxLength: 254, rule: "must be an email address (name@bank.example)" },
        keyKeeperUrl: {
            required: true, pattern: KEY_KEEPER_URL_PATTERN, minLength: 1, rule: "must be an https URL of the key keeper's host name, without credentials or a #fragment",
            beyondSchema: "onboarding reads the URL as a browser does (WHATWG URL) and refuses credentials, a #fragment, localhost, and "
                + "loopback, link-local, unspecified, multicast, reserved and "
                + (context.allowPrivateKeyKeeper ? "" : "private ")
                + "addresses; this schema admits only a host name (no IP address). At check time a host name resolving to a refused address is refused too.",
        },
        assetCode: { required: false, default: "UAH", enum: [...ISO_4217_CODES].sort(), rule: "must be an ISO 4217 currency code such as UAH" },
    };
}

/** Whether a value keeps a rule's data (pattern, length in code points, enum); the character rule is characterProblem's. */
export function keepsBankFieldRule(rule: BankFieldRule, value: string): boolean {
    const length = [...value].length;
    return (rule.pattern === undefined || new RegExp(rule.pattern, "u").test(value))
        && (rule.minLength === undefined || length >= rule.minLength)
        && (rule.maxLength === undefined || length <= rule.maxLength)
        && (rule.enum === undefined || rule.enum.includes(value));
}

/** Reads the raw value of one key; what the stack file holds (strings, or objects for structured keys). */
export type RawConfig = Readonly<Record<string, unknown>>;

/**
 * Validates a whole stack configuration and derives its names. Reports every problem at once.
 * @param raw config values keyed without the project namespace
 * @param stackName the Pulumi stack name, which must equal the alias
 */
export function validateStackConfig(raw: RawConfig, stackName: string): ValidationResult {
    const problems: ConfigProblem[] = [];
    const fail = (key: string, message: string) => problems.push({ key, message });

    for (const key of Object.keys(raw)) {
        if (!(key in CONFIG_KEYS)) {
            const hint = closestKey(key);
            fail(key, `is not a known setting${hint ? `; did you mean '${hint}'?` : ""}`);
        }
    }

    const str = (key: string): string | undefined => {
        const v = raw[key];
        if (v === undefined || v === null || v === "") return undefined;
        if (typeof v !== "string") {
            fail(key, `must be a string, got ${typeof v}`);
            return undefined;
        }
        const bad = characterProblem(v);
        if (bad) {
            // Checked before any other rule, so no message quotes a value holding a line break.
            fail(key, bad);
            return undefined;
        }
        return v;
    };
    const required = (key: string): string | undefined => {
        const v = str(key);
        if (v === undefined && !problems.some((p) => p.key === key)) fail(key, "is required");
        return v;
    };

    // Platform first: the alias' length rule depends on the environment and base domain.
    const environment = required("environment");
    if (environment !== undefined && !DNS_LABEL.test(environment)) fail("environment", DNS_LABEL_RULE);
    const baseDomain = required("baseDomain");
    if (baseDomain !== undefined) {
        const rule = dnsNameProblem(baseDomain);
        if (rule) fail("baseDomain", rule);
    }
    const ingressClass = required("ingressClass");
    if (ingressClass !== undefined && !DNS_LABEL.test(ingressClass)) fail("ingressClass", DNS_LABEL_RULE);
    const tlsMode = required("tlsMode");
    if (tlsMode !== undefined && !TLS_MODES.includes(tlsMode as TlsMode)) {
        fail("tlsMode", `must be one of ${TLS_MODES.join(", ")}; got '${tlsMode}'`);
    }
    const tlsIssuer = str("tlsIssuer") ?? "";
    if (tlsMode === "cert-manager" && !tlsIssuer) fail("tlsIssuer", "is required when tlsMode is cert-manager");
    if (tlsIssuer && dnsNameProblem(tlsIssuer)) fail("tlsIssuer", "must be a Kubernetes object name (a DNS subdomain)");
    const tlsSecretName = str("tlsSecretName") ?? "";
    if (tlsMode === "provided" && !tlsSecretName) fail("tlsSecretName", "is required when tlsMode is provided");
    if (tlsSecretName && dnsNameProblem(tlsSecretName)) fail("tlsSecretName", "must be a Kubernetes object name (a DNS subdomain)");
    const images = {
        frontend: image("frontendImage"),
        kratos: image("kratosImage"),
        jwksServer: image("jwksServerImage"),
        bootstrap: image("bootstrapImage"),
    };
    const dcmApiUpstream = required("dcmApiUpstream");
    if (dcmApiUpstream !== undefined) {
        const rule = urlProblem(dcmApiUpstream, ["http:", "https:"]);
        if (rule) fail("dcmApiUpstream", rule);
    }

    const ingressNamespace = required("ingressNamespace");
    if (ingressNamespace !== undefined && !DNS_LABEL.test(ingressNamespace)) fail("ingressNamespace", DNS_LABEL_RULE);
    // No default: a permissive one (0.0.0.0/0) would let the pod holding the recovery link reach the internet.
    const apiServerCidr = cidrs("apiServerCidr", API_SERVER_RULE);
    const signerNamespace = required("signerNamespace");
    if (signerNamespace !== undefined && !DNS_LABEL.test(signerNamespace)) fail("signerNamespace", DNS_LABEL_RULE);
    const signerServiceAccount = required("signerServiceAccount");
    if (signerServiceAccount !== undefined && dnsNameProblem(signerServiceAccount)) fail("signerServiceAccount", "must be a Kubernetes object name (a DNS subdomain)");

    // The bank: the step-8 fields' rules are data (bankFieldRules), which the JSON Schema states too.
    const allowPrivateRaw = str("allowPrivateKeyKeeper") ?? "false";
    const env = environment ?? "integrate";
    const rules = bankFieldRules({ environment: env, baseDomain: baseDomain ?? "", allowPrivateKeyKeeper: allowPrivateRaw === "true" });
    const alias = required("alias");
    if (alias !== undefined) {
        if (!new RegExp(rules.alias.pattern!, "u").test(alias)) {
            fail("alias", rules.alias.rule);
        } else {
            if (alias !== stackName) fail("alias", `must equal the stack name '${stackName}' (one stack per bank alias); got '${alias}'`);
            const longest = `backoffice-${alias}-${env}`;
            const limits = aliasLimits(env, baseDomain);
            if (alias.length > limits.label) {
                fail("alias", `is too long: host label '${longest}' has ${longest.length} characters, a DNS label allows ${MAX_LABEL} (at most ${limits.label} for the alias)`);
            } else if (alias.length > limits.host) {
                fail("alias", `makes host '${longest}.${baseDomain}' longer than ${MAX_HOST} characters`);
            }
        }
    }
    const displayName = required("displayName");
    if (displayName !== undefined && !keepsBankFieldRule(rules.displayName, displayName)) fail("displayName", rules.displayName.rule);
    const assetCode = str("assetCode") ?? rules.assetCode.default!;
    if (!keepsBankFieldRule(rules.assetCode, assetCode)) fail("assetCode", `${rules.assetCode.rule}; '${assetCode}' is not one`);
    const firstEmployeeEmail = required("firstEmployeeEmail");
    if (firstEmployeeEmail !== undefined && !keepsBankFieldRule(rules.firstEmployeeEmail, firstEmployeeEmail)) {
        fail("firstEmployeeEmail", `${rules.firstEmployeeEmail.rule}; got '${firstEmployeeEmail}'`);
    }
    if (allowPrivateRaw !== "true" && allowPrivateRaw !== "false") fail("allowPrivateKeyKeeper", `must be true or false; got '${allowPrivateRaw}'`);
    const allowPrivateKeyKeeper = allowPrivateRaw === "true";
    const skipAwaitRaw = str("skipAwait") ?? "false";
    if (skipAwaitRaw !== "true" && skipAwaitRaw !== "false") fail("skipAwait", `must be true or false; got '${skipAwaitRaw}'`);
    const operator = operatorSettings();
    const keyKeeperUrl = required("keyKeeperUrl");
    if (keyKeeperUrl !== undefined) {
        const rule = urlProblem(keyKeeperUrl, ["https:"]) ?? keyKeeperHostProblem(new URL(keyKeeperUrl).hostname, allowPrivateKeyKeeper);
        if (rule) fail("keyKeeperUrl", rule);
    }
    const signingKeys = signingKeySlots(raw.signingKeys, fail);
    const activeSigningKey = str("activeSigningKey") ?? signingKeys[0]?.slot ?? "a";
    if (signingKeys.length > 0 && !signingKeys.some((k) => k.slot === activeSigningKey)) {
        fail("activeSigningKey", `must name one of the signingKeys slots (${signingKeys.map((k) => k.slot).join(", ")}); got '${activeSigningKey}'`);
    }

    const devModeRaw = str("kratosDevMode") ?? "false";
    if (devModeRaw !== "true" && devModeRaw !== "false") fail("kratosDevMode", `must be true or false; got '${devModeRaw}'`);
    const kratosDevMode = devModeRaw === "true";
    // The database and mail server addresses go with the DSN and SMTP URI: required outside dev mode, refused in it.
    const serverCidrs = (key: string): string[] => {
        const present = raw[key] !== undefined && raw[key] !== null && raw[key] !== "";
        if (kratosDevMode && present) fail(key, "must not be set when kratosDevMode is true: dev mode has no database or mail server");
        if (kratosDevMode || devModeRaw !== "false") return [];
        return cidrs(key, SERVER_RULE) ?? [];
    };
    const kratosDatabaseCidrs = serverCidrs("kratosDatabaseCidrs");
    const kratosSmtpCidrs = serverCidrs("kratosSmtpCidrs");
    for (const key of SECRET_KEYS) {
        const value = raw[key];
        const present = typeof value === "string" && value !== "";
        const bad = present ? characterProblem(value) : undefined;
        if (bad) {
            fail(key, bad);
        } else if (kratosDevMode && present) {
            fail(key, "must not be set when kratosDevMode is true: dev mode uses an in-pod SQLite database and no mail server");
        } else if (!kratosDevMode && devModeRaw === "false" && !present) {
            fail(key, `is required unless kratosDevMode is true; set it with \`pulumi config set --secret ${key} <value>\``);
        } else if (present) {
            const rule = secretValueProblem(key, value);
            if (rule) fail(key, rule);
        }
    }

    if (problems.length > 0) return { ok: false, problems };
    const platform: PlatformConfig = {
        baseDomain: baseDomain!,
        environment: environment!,
        ingressClass: ingressClass!,
        tlsMode: tlsMode as TlsMode,
        tlsIssuer,
        tlsSecretName,
        images: images as PlatformConfig["images"],
        dcmApiUpstream: dcmApiUpstream!,
        ingressNamespace: ingressNamespace!,
        apiServerCidr: apiServerCidr!,
        signerNamespace: signerNamespace!,
        signerServiceAccount: signerServiceAccount!,
        allowPrivateKeyKeeper,
        skipAwait: skipAwaitRaw === "true",
        operator: operator!,
    };
    const bank: BankConfig = {
        alias: alias!,
        displayName: displayName!,
        assetCode,
        firstEmployeeEmail: firstEmployeeEmail!,
        keyKeeperUrl: keyKeeperUrl!,
        signingKeys,
        activeSigningKey,
        kratosDevMode,
        kratosDatabaseCidrs,
        kratosSmtpCidrs,
    };
    return { ok: true, settings: deriveSettings(bank, platform) };

    /** A required list of CIDRs (see infra/cidrs.ts); every broken entry is reported. */
    function cidrs(key: string, rule: CidrListRule): string[] | undefined {
        const value = raw[key];
        if (value === undefined || value === null || value === "") {
            fail(key, `is required; ${rule.hint}`);
            return undefined;
        }
        const result = cidrList(value, rule);
        for (const problem of result.problems) fail(problem.startsWith("[") ? `${key}${problem.slice(0, problem.indexOf("]") + 1)}` : key, problem.startsWith("[") ? problem.slice(problem.indexOf("]") + 2) : problem);
        return result.problems.length === 0 ? result.cidrs : undefined;
    }

    /** The operator's settings (Pulumi.yaml defaults), checked with the rest so one run reports every problem. */
    function operatorSettings(): OperatorSettings | undefined {
        const namespace = required("operatorNamespace");
        if (namespace !== undefined && !DNS_LABEL.test(namespace)) fail("operatorNamespace", DNS_LABEL_RULE);
        const backend = required("operatorBackend");
        if (backend !== undefined) {
            let scheme = "";
            try {
                scheme = new URL(backend).protocol;
            } catch {
                fail("operatorBackend", `must be a backend URL (${OPERATOR_BACKEND_SCHEMES.map((s) => `${s}//`).join(", ")}); got '${backend}'`);
            }
            if (scheme === "file:") fail("operatorBackend", "must be a shared backend (s3://, gs://, azblob:// or https://): a file:// backend lives on one pod's disk or one laptop, and the next workspace would not find the state");
            else if (scheme && !OPERATOR_BACKEND_SCHEMES.includes(scheme)) fail("operatorBackend", `must use ${OPERATOR_BACKEND_SCHEMES.map((s) => `${s}//`).join(", ")}; got '${scheme}//'`);
            else if (scheme && /\/\/[^/]*@/.test(backend)) fail("operatorBackend", "must not contain credentials: they belong in operatorCredentialsSecret");
        }
        const programRepo = required("operatorProgramRepo");
        if (programRepo !== undefined) {
            const rule = urlProblem(programRepo, ["https:"]);
            if (rule) fail("operatorProgramRepo", rule);
        }
        const credentialsSecret = required("operatorCredentialsSecret");
        if (credentialsSecret !== undefined && dnsNameProblem(credentialsSecret)) fail("operatorCredentialsSecret", "must be a Kubernetes object name (a DNS subdomain)");
        const resyncRaw = required("operatorResyncSeconds");
        const resyncSeconds = Number(resyncRaw);
        if (resyncRaw !== undefined && (!/^\d+$/.test(resyncRaw) || resyncSeconds < OPERATOR_RESYNC_RANGE.min || resyncSeconds > OPERATOR_RESYNC_RANGE.max)) {
            fail("operatorResyncSeconds", `must be a whole number of seconds from ${OPERATOR_RESYNC_RANGE.min} (the operator's floor) to ${OPERATOR_RESYNC_RANGE.max}; got '${resyncRaw}'`);
        }
        const workspaceImage = image("operatorWorkspaceImage");
        if ([namespace, backend, programRepo, credentialsSecret, resyncRaw, workspaceImage].includes(undefined)) return undefined;
        return { namespace: namespace!, backend: backend!, programRepo: programRepo!, credentialsSecret: credentialsSecret!, resyncSeconds, workspaceImage: workspaceImage! };
    }

    function image(key: string): string | undefined {
        const ref = required(key);
        if (ref === undefined) return undefined;
        const rule = imageProblem(ref);
        if (rule) fail(key, rule);
        return ref;
    }
}

/** Names every resource derives from a bank and the platform. */
export function deriveSettings(bank: BankConfig, platform: PlatformConfig): StackSettings {
    const suffix = `${bank.alias}-${platform.environment}`;
    return {
        bank,
        platform,
        namespace: `bank-${suffix}`,
        hosts: {
            backoffice: `backoffice-${suffix}.${platform.baseDomain}`,
            api: `api-${suffix}.${platform.baseDomain}`,
        },
    };
}

/** One line per problem, each naming the key (with the project namespace) and the rule. */
export function formatProblems(problems: readonly ConfigProblem[], namespace: string, stackName: string): string {
    const head = `Invalid configuration for stack '${stackName}' (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:`;
    return [head, ...problems.map((p) => `  - ${namespace}:${p.key} ${p.message}`)].join("\n");
}

function signingKeySlots(value: unknown, fail: (key: string, message: string) => void): SigningKeySlot[] {
    if (value === undefined || value === null || value === "") return [{ slot: "a", algorithm: "ES256" }];
    if (!Array.isArray(value) || value.length === 0 || value.length > 2) {
        fail("signingKeys", "must be a list of one key, or two while rotating: [{slot, algorithm, rsaBits?}]");
        return [];
    }
    const slots: SigningKeySlot[] = [];
    value.forEach((entry: unknown, i: number) => {
        const at = `signingKeys[${i}]`;
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            fail(at, "must be an object {slot, algorithm, rsaBits?}");
            return;
        }
        const { slot, algorithm, rsaBits, ...rest } = entry as Record<string, unknown>;
        for (const extra of Object.keys(rest)) fail(`${at}.${extra}`, "is not a known field (slot, algorithm, rsaBits)");
        if (typeof slot !== "string" || !SLOT.test(slot)) {
            fail(`${at}.slot`, "must be a short lowercase name such as 'a' or 'b' (letter first, at most 16 characters)");
        } else if (slots.some((s) => s.slot === slot)) {
            fail(`${at}.slot`, `'${slot}' is used twice; each key needs its own slot`);
        }
        const alg = algorithm ?? "ES256";
        const bad = typeof alg === "string" ? characterProblem(alg) : undefined;
        if (bad) {
            fail(`${at}.algorithm`, bad);
            return;
        }
        if (typeof alg !== "string" || !SIGNING_ALGORITHMS.includes(alg as SigningAlgorithm)) {
            fail(`${at}.algorithm`, `must be one of ${SIGNING_ALGORITHMS.join(", ")}; got '${String(alg)}'`);
            return;
        }
        const isRsa = alg.startsWith("RS") || alg.startsWith("PS");
        let bits: number | undefined;
        if (isRsa) {
            bits = rsaBits === undefined ? MIN_RSA_BITS : Number(rsaBits);
            if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > 8192 || bits % 1024 !== 0) {
                fail(`${at}.rsaBits`, `must be a multiple of 1024 from ${MIN_RSA_BITS} to 8192; got ${String(rsaBits)}`);
            }
        } else if (rsaBits !== undefined) {
            fail(`${at}.rsaBits`, `applies only to RS256 and PS256, not ${alg}`);
        }
        if (typeof slot === "string") slots.push({ slot, algorithm: alg as SigningAlgorithm, ...(bits ? { rsaBits: bits } : {}) });
    });
    return slots;
}

/** A rule broken by a DNS name (RFC 1123), or undefined. */
export function dnsNameProblem(name: string): string | undefined {
    if (name.length > MAX_HOST) return `must be at most ${MAX_HOST} characters`;
    const labels = name.split(".");
    for (const label of labels) {
        if (label.length > MAX_LABEL) return `has a label longer than ${MAX_LABEL} characters ('${label.slice(0, 20)}...')`;
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(label)) {
            return `must be a DNS name of lowercase labels (letters, digits, '-'), separated by dots; '${name}' is not`;
        }
    }
    return undefined;
}

/** A rule broken by a URL, or undefined: parseable, an allowed scheme, a host, no credentials. */
export function urlProblem(value: string, schemes: readonly string[]): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return `must be an absolute URL (${schemes.map((s) => s.replace(":", "")).join(" or ")}://host/...); got '${value}'`;
    }
    const wanted = schemes.map((s) => s.replace(":", "")).join(" or ");
    if (!schemes.includes(url.protocol)) return `must use ${wanted}; got '${url.protocol.replace(":", "")}'`;
    if (url.username || url.password) return "must not contain credentials (user:password@); put secrets in secret config";
    if (!url.hostname) return "must name a host";
    if (url.hash) return "must not have a #fragment";
    return undefined;
}

// Controls (incl. U+0085 NEXT LINE), format characters (bidi overrides, zero-width), line and paragraph
// separators: YAML 1.1 parsers (the Pulumi CLI's, libyaml) break lines at U+0085, U+2028 and U+2029.
/** The characters no string setting may hold, as a pattern (unicode mode) the JSON Schema states too. */
export const REFUSED_CHARACTER_CLASS = "[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]";
const REFUSED_CHARACTER = new RegExp(REFUSED_CHARACTER_CLASS, "u");

/**
 * The rule a string breaks by holding a control, format, line or paragraph separator character, or
 * undefined. Names the character by code point and never quotes the value.
 */
export function characterProblem(value: string): string | undefined {
    const m = REFUSED_CHARACTER.exec(value);
    if (!m) return undefined;
    const c = m[0];
    const kind = /\p{Zl}/u.test(c) ? "a line separator" : /\p{Zp}/u.test(c) ? "a paragraph separator" : /\p{Cf}/u.test(c) ? "a format character" : "a control character";
    const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    return `must not contain U+${code} (${kind}) at position ${m.index + 1}: control, format, line and paragraph separator characters are refused`;
}

export type AddressKind = "unspecified" | "loopback" | "link-local" | "private" | "multicast" | "reserved";

// [first address, prefix length, kind]: the IPv4 ranges a key keeper must not be in.
const IPV4_RANGES: [string, number, AddressKind][] = [
    ["0.0.0.0", 8, "unspecified"], ["127.0.0.0", 8, "loopback"], ["169.254.0.0", 16, "link-local"],
    ["10.0.0.0", 8, "private"], ["172.16.0.0", 12, "private"], ["192.168.0.0", 16, "private"], ["100.64.0.0", 10, "private"],
    ["224.0.0.0", 4, "multicast"], ["240.0.0.0", 4, "reserved"],
];
const ipv4Number = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);

/** What kind of non-public address an IP address is (IPv4-mapped IPv6 as its IPv4), or undefined for a public one. */
export function addressKind(ip: string): AddressKind | undefined {
    const address = ip.replace(/^\[|\]$/g, "");
    if (net.isIPv4(address)) {
        const n = ipv4Number(address);
        return IPV4_RANGES.find(([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(ipv4Number(base) / 2 ** (32 - bits)))?.[2];
    }
    if (!net.isIPv6(address)) return undefined;
    const g = ipv6Groups(address);
    if (g.every((x) => x === 0)) return "unspecified";
    if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address.
    const v4tail = `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
    if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return addressKind(v4tail);
    if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return addressKind(v4tail);
    if ((g[0] & 0xffc0) === 0xfe80) return "link-local";
    if ((g[0] & 0xfe00) === 0xfc00 || (g[0] & 0xffc0) === 0xfec0) return "private";
    if ((g[0] & 0xff00) === 0xff00) return "multicast";
    return undefined;
}


/**
 * Why a key keeper host name is refused, or undefined: `localhost`, or a loopback, link-local, unspecified,
 * multicast or reserved address, or a private one unless allowed. The post-deploy checks send a valid
 * DCM-signed token to this host from inside DCM's network.
 */
export function keyKeeperHostProblem(hostname: string, allowPrivate: boolean): string | undefined {
    const host = hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
    const why = "the post-deploy checks send DCM-signed tokens to it from inside DCM's network";
    if (host === "localhost" || host.endsWith(".localhost")) return `must not name localhost: ${why}`;
    const kind = addressKind(host);
    if (!kind || (kind === "private" && allowPrivate)) return undefined;
    return `must not name a ${kind} address (${host}): ${why}${kind === "private" ? "; a key keeper on a private network needs allowPrivateKeyKeeper: true in the platform config" : ""}`;
}

/** The known key closest to a misspelt one (edit distance at most 3), for "did you mean". */
function closestKey(key: string): string | undefined {
    let best: string | undefined;
    let bestDistance = 4;
    for (const known of Object.keys(CONFIG_KEYS)) {
        const d = editDistance(key.toLowerCase(), known.toLowerCase());
        if (d < bestDistance) {
            best = known;
            bestDistance = d;
        }
    }
    return best;
}

function editDistance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        prev = row;
    }
    return prev[b.length];
}
