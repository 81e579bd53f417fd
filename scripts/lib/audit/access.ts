/** Whether a NetworkPolicy or RBAC change widens access: compares what the old and the new object allow. */
import { deepEqual } from "./diff";

type Obj = Record<string, any>;

const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const RBAC_RULES = ["kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"];
const RBAC_BINDINGS = ["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"];

export function isAccessType(type: string): boolean {
    return type === NETWORK_POLICY || RBAC_RULES.includes(type) || RBAC_BINDINGS.includes(type);
}

/** Reasons the change widens access; empty when it does not (or narrows it). */
export function wideningReasons(type: string, oldObj: Obj | undefined, newObj: Obj | undefined): string[] {
    if (type === NETWORK_POLICY) return networkPolicy(oldObj, newObj);
    if (RBAC_RULES.includes(type)) return rbacRules(oldObj, newObj);
    if (RBAC_BINDINGS.includes(type)) return rbacBinding(oldObj, newObj);
    return [];
}

function directions(spec: Obj | undefined): { ingress?: Obj[]; egress?: Obj[] } {
    if (!spec) return {};
    const types: string[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : spec.egress ? ["Ingress", "Egress"] : ["Ingress"];
    return {
        ingress: types.includes("Ingress") ? (spec.ingress ?? []) : undefined,
        egress: types.includes("Egress") ? (spec.egress ?? []) : undefined,
    };
}

function networkPolicy(oldObj: Obj | undefined, newObj: Obj | undefined): string[] {
    const before = directions(oldObj?.spec);
    const after = directions(newObj?.spec);
    const reasons: string[] = [];
    if (oldObj && !newObj) return [`removing the NetworkPolicy lifts its restrictions (${Object.keys(before).filter((k) => before[k as "ingress"]).join(", ")})`];
    if (oldObj && newObj && !deepEqual(oldObj.spec?.podSelector, newObj.spec?.podSelector)) reasons.push("the podSelector changed: other pods are now governed by this policy");
    for (const dir of ["ingress", "egress"] as const) {
        const was = before[dir];
        const now = after[dir];
        if (oldObj && was && !now) reasons.push(`${dir} is no longer restricted by this policy`);
        for (const rule of now ?? []) {
            if (!(was ?? []).some((r) => deepEqual(r, rule))) {
                const peers = dir === "ingress" ? rule.from : rule.to;
                const all = !peers || peers.length === 0;
                reasons.push(`new ${dir} allow rule${all ? " from/to every peer" : ""}${!rule.ports?.length ? " on every port" : ""}`);
            }
        }
    }
    return reasons;
}

interface Grant {
    verb: string;
    group: string;
    resource: string;
    /** Resource name, "*" for every object; for non-resource URLs the URL. */
    name: string;
}

function grants(obj: Obj | undefined): Grant[] {
    const out: Grant[] = [];
    for (const rule of (obj?.rules ?? []) as Obj[]) {
        const names: string[] = rule.resourceNames?.length ? rule.resourceNames : ["*"];
        for (const verb of (rule.verbs ?? []) as string[]) {
            for (const group of (rule.apiGroups ?? [""]) as string[]) for (const resource of (rule.resources ?? []) as string[]) for (const name of names) out.push({ verb, group, resource, name });
            for (const url of (rule.nonResourceURLs ?? []) as string[]) out.push({ verb, group: "", resource: "nonResourceURL", name: url });
        }
    }
    return out;
}

const covers = (a: Grant, b: Grant) => [[a.verb, b.verb], [a.group, b.group], [a.resource, b.resource], [a.name, b.name]].every(([x, y]) => x === "*" || x === y);
const show = (g: Grant) => `${g.verb} ${g.resource === "nonResourceURL" ? g.name : `${g.group || "core"}/${g.resource}${g.name === "*" ? "" : `/${g.name}`}`}`;

function rbacRules(oldObj: Obj | undefined, newObj: Obj | undefined): string[] {
    if (!newObj) return [];
    const before = grants(oldObj);
    const added = grants(newObj).filter((g) => !before.some((b) => covers(b, g))).map(show);
    const reasons = added.length ? [`grants ${added.slice(0, 6).join(", ")}${added.length > 6 ? ` and ${added.length - 6} more` : ""}`] : [];
    if (newObj.aggregationRule && !deepEqual(oldObj?.aggregationRule, newObj.aggregationRule)) reasons.push("aggregates other roles' rules");
    return reasons;
}

function rbacBinding(oldObj: Obj | undefined, newObj: Obj | undefined): string[] {
    if (!newObj) return [];
    const key = (s: Obj) => `${s.kind}:${s.namespace ? `${s.namespace}/` : ""}${s.name}`;
    const before = new Set(((oldObj?.subjects ?? []) as Obj[]).map(key));
    const added = ((newObj.subjects ?? []) as Obj[]).map(key).filter((s) => !before.has(s));
    const reasons = added.length ? [`binds ${newObj.roleRef?.kind ?? "role"} ${newObj.roleRef?.name ?? ""} to ${added.join(", ")}`] : [];
    if (oldObj && !deepEqual(oldObj.roleRef, newObj.roleRef)) reasons.push(`now binds ${newObj.roleRef?.kind} ${newObj.roleRef?.name}`);
    return reasons;
}
