/**
 * What matters about a change, highest first: the signing key or the key-keeper secrets replaced or deleted,
 * a host or TLS change, an image change, a NetworkPolicy or RBAC change that widens access, anything protected.
 */
import type { Flag, Op } from "./model";
import { isAccessType, wideningReasons } from "./access";

/** A change before masking: plain (unwrapped) old and new properties. */
export interface RawChange {
    urn: string;
    type: string;
    name: string;
    op: Op;
    /** Protected in the old or the new state. */
    protect: boolean;
    old?: Record<string, any>;
    new?: Record<string, any>;
    /** Paths of the fields that change. */
    changedPaths: string[];
}

/** Flag kinds in the order the report ranks them. */
export const FLAG_ORDER = ["signing-key", "key-keeper-secrets", "host-tls", "image", "access-widening", "protected", "secret-regenerated"];

const PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
const SECRET = "kubernetes:core/v1:Secret";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

const objectName = (c: RawChange): string | undefined => (c.new?.metadata?.name ?? c.old?.metadata?.name) as string | undefined;
const under = (c: RawChange, component: string) => c.urn.includes(`${component}$`);
const destroys = (op: Op) => op === "replace" || op === "delete";
const touchesSecretData = (c: RawChange) => c.changedPaths.some((p) => /^(data|stringData)\b/.test(p));

function isSigningKey(c: RawChange): boolean {
    return (c.type === PRIVATE_KEY && under(c, "dcm:integration:JwtSigningKey")) || (c.type === SECRET && objectName(c) === "jwt-signing-key");
}

function isKeyKeeperSecret(c: RawChange): boolean {
    return (c.type === RANDOM_PASSWORD && under(c, "dcm:integration:KeyKeeperSecrets")) || (c.type === SECRET && objectName(c) === "key-keeper-users");
}

const HOST_PATH = /(^|\.)(hosts?|host[A-Z]\w*|\w*Host|\w*Hosts|\w*Url|\w*URL)(\[\d+\])?$|(^|\.)tls(\b|\[)|\.rules\[\d+\]\.host$/;

function hostOrTls(c: RawChange): string[] {
    if (isSigningKey(c)) return [];
    if (c.type === PRIVATE_KEY || c.type.startsWith("tls:index/")) return [`TLS material (${c.type.split(":").pop()}) is ${verb(c.op)}`];
    if (c.type.includes("cert-manager.io")) return [`certificate ${c.op === "create" ? "added" : verb(c.op)}`];
    if (c.type === INGRESS && (c.op === "create" || c.op === "delete")) return [`Ingress ${c.op === "create" ? "added: new public host(s)" : "removed: host(s) no longer served"}`];
    const isTlsSecret = c.type === SECRET && (c.new?.type ?? c.old?.type) === "kubernetes.io/tls";
    if (isTlsSecret && (destroys(c.op) || touchesSecretData(c))) return ["TLS certificate Secret changes"];
    if (c.op === "create" || c.op === "delete") return [];
    const paths = c.changedPaths.filter((p) => HOST_PATH.test(p));
    return paths.length ? [`host/TLS fields change: ${paths.slice(0, 5).join(", ")}${paths.length > 5 ? ", ..." : ""}`] : [];
}

function verb(op: Op): string {
    return op === "replace" ? "replaced" : op === "delete" ? "deleted" : op === "create" ? "created" : "changed";
}

/** Every flag for one change, highest first. */
export function flagsFor(c: RawChange): Flag[] {
    const flags: Flag[] = [];
    if (c.op === "same") return flags;
    if (isSigningKey(c) && (destroys(c.op) || (c.type === SECRET && touchesSecretData(c)))) {
        flags.push({
            severity: "critical", kind: "signing-key",
            message: `JWT signing key ${verb(c.op)}: the bank must receive the new public key (new kid in the JWKS) before DCM signs with it; tokens signed with the old key stop verifying.`,
        });
    }
    if (isKeyKeeperSecret(c) && (destroys(c.op) || (c.type === SECRET && touchesSecretData(c)))) {
        flags.push({
            severity: "critical", kind: "key-keeper-secrets",
            message: `Key-keeper credentials ${verb(c.op)}: the bank must re-register the entity users' secrets in its key keeper, or DCM's entities lose access.`,
        });
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
    if (c.protect) {
        flags.push({
            severity: "medium", kind: "protected",
            message: destroys(c.op)
                ? `Protected resource ${verb(c.op)}: Pulumi refuses until someone removes the protection on purpose.`
                : `Protected resource ${verb(c.op)}.`,
        });
    }
    return flags.sort((a, b) => FLAG_ORDER.indexOf(a.kind) - FLAG_ORDER.indexOf(b.kind));
}
