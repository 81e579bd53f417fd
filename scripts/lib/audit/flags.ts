/**
 * What matters about a change, highest first: the signing key or the key-keeper secrets replaced, deleted or
 * unprotected, a host or TLS change (also a changed cert-manager issuer), an image change, a NetworkPolicy or RBAC
 * change that widens access, Kratos' secrets regenerated (with what that breaks), anything protected.
 */
import type { Flag, Op } from "./model";
import { isAccessType, wideningReasons } from "./access";

/** A change before masking: plain (unwrapped) old and new properties. */
export interface RawChange {
    urn: string;
    type: string;
    name: string;
    op: Op;
    /** Protected after the change (before it, for a delete). */
    protect: boolean;
    /** `protect` in the old and the new state (undefined: no such state). */
    protectBefore?: boolean;
    protectAfter?: boolean;
    old?: Record<string, any>;
    new?: Record<string, any>;
    /** Paths of the fields that change. */
    changedPaths: string[];
}

/** Flag kinds in the order the report ranks them. */
export const FLAG_ORDER = ["bank-retired", "signing-key", "key-keeper-secrets", "unprotected", "kratos-secret", "host-tls", "image", "access-widening", "protected", "secret-regenerated", "bank-new"];

const PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
const SECRET = "kubernetes:core/v1:Secret";
export const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
/** Gateway API objects that make public hosts (routing gateway-api): a ListenerSet's listeners and an HTTPRoute's hostnames. */
export const LISTENER_SET = "kubernetes:gateway.networking.k8s.io/v1:ListenerSet";
/** A bank's own Gateway (gatewayListeners bank-gateway): its listeners make public hosts as a ListenerSet's do. */
export const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
const holdsListeners = (type: string) => type === LISTENER_SET || type === GATEWAY;
export const HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
const REFERENCE_GRANT = "kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant";
const BACKEND_TLS_POLICY = "kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy";
const CERT_MANAGER_ANNOTATION = /^(cert-manager\.io|acme\.cert-manager\.io)\//;

const objectName = (c: RawChange): string | undefined => (c.new?.metadata?.name ?? c.old?.metadata?.name) as string | undefined;
const under = (c: RawChange, component: string) => c.urn.includes(`${component}$`);
const destroys = (op: Op) => op === "replace" || op === "delete";
const touchesSecretData = (c: RawChange) => c.changedPaths.some((p) => /^(data|stringData)\b/.test(p));
/**
 * The old key or credentials stop working: destroyed, or a Secret holding them rewritten. A creation replaces nothing
 * (a new bank, a new slot): no token was signed with it, nobody registered it, so nothing stops verifying.
 */
const supersedes = (c: RawChange) => destroys(c.op) || (c.op === "update" && c.type === SECRET && touchesSecretData(c));

/** The key pair of a JwtSigningKey, or the Secret JwtKeySet hands the signer (by its component, whatever its object name). */
function isSigningKey(c: RawChange): boolean {
    return (c.type === PRIVATE_KEY && under(c, "dcm:integration:JwtSigningKey"))
        || (c.type === SECRET && (under(c, "dcm:integration:JwtKeySet") || /^jwt-signing-key(-|$)/.test(objectName(c) ?? "")));
}

/** A key-keeper user's password, or the Secret that holds them. */
function isKeyKeeperSecret(c: RawChange): boolean {
    return ((c.type === RANDOM_PASSWORD || c.type === SECRET) && under(c, "dcm:integration:KeyKeeperSecrets"))
        || (c.type === SECRET && /^key-keeper-users(-|$)/.test(objectName(c) ?? ""));
}

/** What a Kratos secret is for, by its RandomPassword's name (components/kratos.ts), and what regenerating it breaks. */
const KRATOS_SECRETS: Record<string, { severity: "high" | "medium"; what: string; breaks: string }> = {
    "secret-cipher": { severity: "high", what: "Kratos' cipher secret", breaks: "every value Kratos encrypted with it (stored OIDC tokens and other encrypted identity data) can no longer be decrypted" },
    "secret-cookie": { severity: "medium", what: "Kratos' cookie secret", breaks: "every session cookie stops validating and every employee is logged out" },
    "secret-default": { severity: "medium", what: "Kratos' default secret", breaks: "recovery and verification links and codes already sent stop working" },
    "secret-pagination": { severity: "medium", what: "Kratos' pagination secret", breaks: "page tokens of Kratos' admin lists already handed out stop working (no employee notices)" },
};

function kratosSecret(c: RawChange): { severity: "high" | "medium"; what: string; breaks: string } | undefined {
    if (c.type !== RANDOM_PASSWORD || !under(c, "dcm:integration:Kratos")) return undefined;
    return Object.entries(KRATOS_SECRETS).find(([suffix]) => c.name.endsWith(`-${suffix}`))?.[1];
}

const annotations = (o: Record<string, any> | undefined): Record<string, unknown> => (o?.metadata?.annotations ?? {}) as Record<string, unknown>;
/** The hosts an Ingress serves: its rules' hosts and its TLS hosts. */
export const ingressHosts = (o: Record<string, any> | undefined): string[] => [
    ...((o?.spec?.rules ?? []) as { host?: string }[]).map((r) => r?.host).filter((h): h is string => typeof h === "string"),
    ...((o?.spec?.tls ?? []) as { hosts?: string[] }[]).flatMap((t) => (Array.isArray(t?.hosts) ? t.hosts : [])),
];
/** The hosts an object of either routing mode serves (Ingress, ListenerSet, HTTPRoute); none for other types. */
export const publicHosts = (type: string, o: Record<string, any> | undefined): string[] =>
    type === INGRESS ? ingressHosts(o)
        : holdsListeners(type) ? ((o?.spec?.listeners ?? []) as { hostname?: string }[]).map((l) => l?.hostname).filter((h): h is string => typeof h === "string")
            : type === HTTP_ROUTE ? ((o?.spec?.hostnames ?? []) as unknown[]).filter((h): h is string => typeof h === "string") : [];
const tlsSecrets = (o: Record<string, any> | undefined): string[] => ((o?.spec?.tls ?? []) as { secretName?: string }[]).map((t) => String(t?.secretName ?? ""));
const listenerSecrets = (o: Record<string, any> | undefined): string[] => ((o?.spec?.listeners ?? []) as { tls?: { certificateRefs?: { name?: string }[] } }[])
    .flatMap((l) => (l?.tls?.certificateRefs ?? []).map((r) => String(r?.name ?? "")));

/** An Ingress compared by value: its hosts, its TLS Secrets and the cert-manager annotations that issue its certificate. */
function ingressChanges(c: RawChange): string[] {
    if ((c.type !== INGRESS && !holdsListeners(c.type)) || !c.old || !c.new) return [];
    const out: string[] = [];
    const [before, after] = [annotations(c.old), annotations(c.new)];
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => CERT_MANAGER_ANNOTATION.test(k)).sort()) {
        if (before[key] !== after[key]) out.push(`certificate issuer annotation ${key} changes from ${show(before[key])} to ${show(after[key])}`);
    }
    const [hostsBefore, hostsAfter] = [new Set(publicHosts(c.type, c.old)), new Set(publicHosts(c.type, c.new))];
    const added = [...hostsAfter].filter((h) => !hostsBefore.has(h));
    const removed = [...hostsBefore].filter((h) => !hostsAfter.has(h));
    if (added.length || removed.length) out.push(`hosts${added.length ? ` added ${added.join(", ")}` : ""}${removed.length ? ` removed ${removed.join(", ")}` : ""}`);
    const secrets = c.type === INGRESS ? tlsSecrets : listenerSecrets;
    if (secrets(c.old).join() !== secrets(c.new).join()) out.push(`TLS Secret changes from ${secrets(c.old).join(", ") || "none"} to ${secrets(c.new).join(", ") || "none"}`);
    return out;
}

const show = (v: unknown) => (v === undefined ? "(none)" : JSON.stringify(v));

const HOST_PATH = /(^|\.)(hosts?|host[A-Z]\w*|\w*Host|\w*Hosts|\w*Url|\w*URL)(\[\d+\])?$|(^|\.)tls(\b|\[)|\.rules\[\d+\]\.host$/;

function hostOrTls(c: RawChange): string[] {
    if (isSigningKey(c)) return [];
    if (c.type === PRIVATE_KEY || c.type.startsWith("tls:index/")) return [`TLS material (${c.type.split(":").pop()}) is ${verb(c.op)}`];
    if (c.type.includes("cert-manager.io")) return [`certificate ${c.op === "create" ? "added" : verb(c.op)}`];
    if (c.type === INGRESS && (c.op === "create" || c.op === "delete")) return [`Ingress ${c.op === "create" ? "added: new public host(s)" : "removed: host(s) no longer served"}`];
    if (holdsListeners(c.type) && (c.op === "create" || c.op === "delete")) {
        const kind = c.type === GATEWAY ? "Gateway" : "ListenerSet";
        return [`${kind} ${c.op === "create" ? `added: new public host(s) ${c.type === GATEWAY ? "on the bank's own Gateway" : "on the platform's Gateway"}` : "removed: host(s) no longer served"}`];
    }
    if (c.type === HTTP_ROUTE) return [`HTTPRoute ${objectName(c) ?? ""} ${c.op === "create" ? "added: what a public host serves changes" : c.op === "delete" ? "removed: paths no longer served" : `${verb(c.op)}: what a public host serves changes (${c.changedPaths.slice(0, 5).join(", ") || "spec"})`}`];
    if (c.type === REFERENCE_GRANT) return [`ReferenceGrant ${objectName(c) ?? ""} ${verb(c.op)}: which routes may reach DCM's API changes`];
    if (c.type === BACKEND_TLS_POLICY) return [`BackendTLSPolicy ${objectName(c) ?? ""} ${verb(c.op)}${c.op === "delete" ? ": DCM's API may be reached without verifying its certificate" : ": how DCM's API certificate is verified changes"}`];
    const isTlsSecret = c.type === SECRET && (c.new?.type ?? c.old?.type) === "kubernetes.io/tls";
    if (isTlsSecret && (destroys(c.op) || touchesSecretData(c))) return ["TLS certificate Secret changes"];
    if (c.op === "create" || c.op === "delete") return [];
    const byValue = ingressChanges(c);
    if (byValue.length) return byValue;
    const paths = c.changedPaths.filter((p) => HOST_PATH.test(p));
    return paths.length ? [`host/TLS fields change: ${paths.slice(0, 5).join(", ")}${paths.length > 5 ? ", ..." : ""}`] : [];
}

function verb(op: Op): string {
    return op === "replace" ? "replaced" : op === "delete" ? "deleted" : op === "create" ? "created" : "changed";
}

/** Protection taken off in this change (Pulumi shows such a `same` step so it can be seen). */
const unprotects = (c: RawChange) => c.protectBefore === true && c.protectAfter === false;

/** Every flag for one change, highest first. */
export function flagsFor(c: RawChange): Flag[] {
    const flags: Flag[] = [];
    if (unprotects(c)) {
        const what = isSigningKey(c) ? "the JWT signing key" : isKeyKeeperSecret(c) ? "key-keeper credentials" : undefined;
        if (what) {
            flags.push({
                severity: "critical", kind: "unprotected",
                message: c.op === "same"
                    ? `Protection removed from ${what}: nothing stops a later change from replacing or deleting it, and the bank would have to act when one does.`
                    : `Protection removed from ${what} in the same change that ${c.op === "replace" ? "replaces" : c.op === "delete" ? "deletes" : "changes"} it: Pulumi will not stop it.`,
            });
        } else {
            flags.push({
                severity: "medium", kind: "unprotected",
                message: c.op === "same"
                    ? "Protection removed: a later change can replace or delete this resource."
                    : `Protection removed in the same change that ${c.op === "replace" ? "replaces" : c.op === "delete" ? "deletes" : "changes"} this resource: Pulumi will not stop it.`,
            });
        }
    }
    if (c.op === "same") return flags;
    if (isSigningKey(c) && supersedes(c)) {
        flags.push({
            severity: "critical", kind: "signing-key",
            message: c.op === "delete"
                ? "JWT signing key deleted: its public key leaves the JWKS, so the bank stops accepting tokens signed with it; DCM must no longer sign with this key."
                : `JWT signing key ${verb(c.op)}: the bank must receive the new public key (new kid in the JWKS) before DCM signs with it; tokens signed with the old key stop verifying.`,
        });
    }
    if (isKeyKeeperSecret(c) && supersedes(c)) {
        flags.push({
            severity: "critical", kind: "key-keeper-secrets",
            message: `Key-keeper credentials ${verb(c.op)}: the bank must re-register the entity users' secrets in its key keeper, or DCM's entities lose access.`,
        });
    } else if (kratosSecret(c) && destroys(c.op)) {
        const k = kratosSecret(c)!;
        flags.push({ severity: k.severity, kind: "kratos-secret", message: `${k.what} is ${c.op === "delete" ? "deleted" : "regenerated"}, so ${k.breaks}.` });
    } else if (c.type === RANDOM_PASSWORD && destroys(c.op)) {
        flags.push({ severity: "medium", kind: "secret-regenerated", message: "A generated secret is regenerated: everything that holds the old value must be updated." });
    }
    for (const reason of hostOrTls(c)) flags.push({ severity: "high", kind: "host-tls", message: `Host or TLS change: ${reason}.` });
    if (c.op === "update" || c.op === "replace") {
        const images = c.changedPaths.filter((p) => /(^|\.)image$/.test(p));
        if (images.length) flags.push({ severity: "high", kind: "image", message: `Image change: ${images.join(", ")}.` });
    }
    if (isAccessType(c.type)) {
        const reasons = wideningReasons(c.type, c.op === "create" ? undefined : c.old, c.op === "delete" ? undefined : c.new);
        if (reasons.length) flags.push({ severity: "high", kind: "access-widening", message: `Widens access: ${reasons.join("; ")}.` });
    }
    // Said once: where the protection's removal is flagged already, not again as a protected resource.
    const protectedMessage = flags.some((f) => f.kind === "unprotected") ? undefined : protectedFlag(c);
    if (protectedMessage) flags.push({ severity: "medium", kind: "protected", message: protectedMessage });
    return flags.sort((a, b) => FLAG_ORDER.indexOf(a.kind) - FLAG_ORDER.indexOf(b.kind));
}

/**
 * What protection means for this change, as Pulumi's step generator decides it: a replacement is refused only when
 * the resource is protected before and after (unprotecting and replacing in one update is allowed); a delete is
 * refused whenever the old state is protected.
 */
function protectedFlag(c: RawChange): string | undefined {
    const before = c.protectBefore ?? (c.op === "create" ? undefined : c.protect);
    const after = c.protectAfter ?? (c.op === "delete" ? undefined : c.protect);
    if (c.op === "delete" && before) return "Protected resource deleted: Pulumi refuses until the protection is removed (in the program and a `pulumi up`, or `pulumi state unprotect`).";
    if (c.op === "replace" && before && after) return "Protected resource replaced: Pulumi refuses until someone removes the protection on purpose.";
    if (c.op === "replace" && before && !after) return "Protected resource replaced: this same change removes its protection, so Pulumi goes ahead.";
    if ((c.op === "update" || c.op === "replace" || c.op === "create") && (after || before)) return `Protected resource ${verb(c.op)}.`;
    return undefined;
}
