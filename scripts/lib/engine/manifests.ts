/**
 * The Kubernetes objects of an offline run, as `kubectl apply` would receive them, in a deterministic order.
 */
import * as YAML from "yaml";
import type { RecordedResource } from "./offline-runtime";
import { maskSecrets, MASK, unwrapSecrets } from "../../../domain/secret-values";

export interface KubernetesObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
    [field: string]: unknown;
}

// Apply order, as Helm installs: what others need comes first.
const KIND_ORDER = [
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget", "ServiceAccount", "Secret", "ConfigMap",
    "Role", "RoleBinding", "Service", "Certificate", "Issuer", "Job", "Deployment", "StatefulSet", "Ingress",
];

export function isKubernetesObject(r: RecordedResource): boolean {
    return r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:");
}

/** Objects with secrets still marked (`{ "$secret": v }`), sorted by apply order, namespace and name. */
export function kubernetesObjects(resources: readonly RecordedResource[]): KubernetesObject[] {
    const objects = resources.filter(isKubernetesObject).map((r) => {
        const o = structuredClone(r.outputs) as KubernetesObject;
        // Set by the API server, not by the program: left out so renders compare.
        delete o.metadata.uid;
        return o;
    });
    const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);
    return objects.sort((a, b) =>
        rank(a.kind) - rank(b.kind) || a.kind.localeCompare(b.kind) ||
        (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") || a.metadata.name.localeCompare(b.metadata.name));
}

/** Objects with real values, for schema validation and policies. */
export function plainObjects(resources: readonly RecordedResource[]): KubernetesObject[] {
    return kubernetesObjects(resources).map((o) => unwrapSecrets(o) as KubernetesObject);
}

const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----\n?/g;

/** Masks what is marked secret, and also anything shaped like a private key, wherever it stands. */
export function maskForDisplay(v: unknown): unknown {
    const masked = maskSecrets(v);
    const byShape = (x: unknown): unknown => {
        if (typeof x === "string") return x.replace(PRIVATE_KEY_PEM, MASK);
        if (Array.isArray(x)) return x.map(byShape);
        if (typeof x === "object" && x !== null) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, byShape(y)]));
        return x;
    };
    return byShape(masked);
}

/**
 * What marks a reproducible render as such, in manifests.yaml's header, summary.json and on stdout: its passwords and
 * keys follow from a seed anyone may know, so they must never protect anything.
 */
export function seededRenderNote(seed: string): string {
    return `REPRODUCIBLE RENDER, NOT FOR DEPLOYMENT: every password, key and id is derived from the seed ${JSON.stringify(seed)} and the resource's URN.`;
}

/** A multi-document YAML stream, every secret masked; a seeded render starts with a comment that says so. */
export function manifestsYaml(resources: readonly RecordedResource[], seed?: string): string {
    const header = seed === undefined ? "" : `# ${seededRenderNote(seed)}\n`;
    return header + kubernetesObjects(resources)
        // YAML 1.1's quoting: kubectl reads YAML 1.1, where an unquoted on, yes or off is a boolean (an ingress-nginx
        // annotation "on" would reach the API server as true and be refused).
        .map((o) => YAML.stringify(maskForDisplay(o), { sortMapEntries: true, lineWidth: 0, version: "1.1" }))
        .map((doc) => `---\n${doc}`)
        .join("");
}
