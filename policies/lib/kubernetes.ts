/**
 * Reading Kubernetes objects as policies see them (plain props of `kubernetes:*` resources):
 * pod specs of every workload kind, their containers, labels and selectors.
 */

/** Pod-bearing kinds by Pulumi type token, and where their pod spec lives. */
const POD_SPEC_PATHS: Record<string, string[]> = {
    "kubernetes:core/v1:Pod": ["spec"],
    "kubernetes:core/v1:PodTemplate": ["template", "spec"],
    "kubernetes:core/v1:ReplicationController": ["spec", "template", "spec"],
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

export type Obj = Record<string, any>;

export function isObject(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Pulumi type tokens of every kind that carries a pod spec. */
export const POD_SPEC_TYPES = Object.keys(POD_SPEC_PATHS);

/** The pod spec of a workload (or a Pod), undefined for anything else or a spec not set. */
export function podSpecOf(type: string, props: Obj): Obj | undefined {
    const path = POD_SPEC_PATHS[type];
    if (!path) return undefined;
    let v: unknown = props;
    for (const key of path) v = isObject(v) ? v[key] : undefined;
    return isObject(v) ? v : undefined;
}

/** Pod template metadata of a workload (the Pod's own metadata for a Pod). */
export function podMetadataOf(type: string, props: Obj): Obj {
    const path = POD_SPEC_PATHS[type];
    if (!path) return {};
    let v: unknown = props;
    for (const key of [...path.slice(0, -1), "metadata"]) v = isObject(v) ? v[key] : undefined;
    return isObject(v) ? v : {};
}

export interface ContainerRef {
    /** "containers", "initContainers" or "ephemeralContainers". */
    list: string;
    /** e.g. `containers[0] "kratos"`: for messages. */
    where: string;
    container: Obj;
}

/** Every container of a pod spec, init and ephemeral containers included. */
export function containersOf(spec: Obj): ContainerRef[] {
    const out: ContainerRef[] = [];
    for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
        const items = spec[list];
        if (!Array.isArray(items)) continue;
        items.forEach((c, i) => {
            if (isObject(c)) out.push({ list, where: `${list}[${i}] "${String(c.name ?? "?")}"`, container: c });
        });
    }
    return out;
}

export function labelsOf(props: Obj): Record<string, string> {
    const labels = isObject(props.metadata) ? props.metadata.labels : undefined;
    return isObject(labels) ? (labels as Record<string, string>) : {};
}

export function annotationsOf(metadata: unknown): Record<string, unknown> {
    const annotations = isObject(metadata) ? metadata.annotations : undefined;
    return isObject(annotations) ? annotations : {};
}

export function nameOf(props: Obj): string {
    return isObject(props.metadata) && typeof props.metadata.name === "string" ? props.metadata.name : "";
}

export function namespaceOf(props: Obj): string | undefined {
    return isObject(props.metadata) && typeof props.metadata.namespace === "string" ? props.metadata.namespace : undefined;
}

/** True if a label selector (matchLabels and matchExpressions) selects a set of labels. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
    if (!isObject(selector)) return false;
    const matchLabels = isObject(selector.matchLabels) ? selector.matchLabels : {};
    const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
    if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return true;
    for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
    for (const e of expressions) {
        if (!isObject(e)) return false;
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const values: unknown[] = Array.isArray(e.values) ? e.values : [];
        if (e.operator === "In" && !(has && values.includes(labels[e.key]))) return false;
        if (e.operator === "NotIn" && has && values.includes(labels[e.key])) return false;
        if (e.operator === "Exists" && !has) return false;
        if (e.operator === "DoesNotExist" && has) return false;
    }
    return true;
}

/** Which part of the bank environment a workload is, from its recommended labels, name or image. */
export function workloadRole(type: string, props: Obj): "frontend" | "kratos" | undefined {
    const labels = { ...podMetadataOf(type, props).labels, ...labelsOf(props) } as Record<string, unknown>;
    const spec = podSpecOf(type, props);
    const images = spec ? containersOf(spec).map((c) => String(c.container.image ?? "")) : [];
    const said = [labels["app.kubernetes.io/name"], labels["app.kubernetes.io/component"], labels.app, nameOf(props)]
        .filter((v): v is string => typeof v === "string").join(" ").toLowerCase();
    if (images.some((i) => /(^|\/)kratos[:@]/.test(i)) || /\bkratos\b/.test(said)) return "kratos";
    if (/\bfrontend\b/.test(said) || images.some((i) => /(^|\/)frontend[:@]/.test(i))) return "frontend";
    return undefined;
}

/** Human name of a Kubernetes object for messages: `Kind namespace/name`. */
export function describeObject(props: Obj): string {
    const ns = namespaceOf(props);
    return `${String(props.kind ?? "object")} ${ns ? `${ns}/` : ""}${nameOf(props) || "(unnamed)"}`;
}
