/** Mandatory: without a default-deny NetworkPolicy every pod of a bank is reachable from, and can reach, every other namespace. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { isObject, nameOf, namespaceOf, Obj } from "./lib/kubernetes";

const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** True for a NetworkPolicy that selects every pod and admits nothing, in both directions. */
export function isDefaultDeny(props: Obj): boolean {
    const spec = isObject(props.spec) ? props.spec : {};
    const selector = isObject(spec.podSelector) ? spec.podSelector : undefined;
    const selectsAll = selector !== undefined
        && Object.keys(isObject(selector.matchLabels) ? selector.matchLabels : {}).length === 0
        && (Array.isArray(selector.matchExpressions) ? selector.matchExpressions : []).length === 0;
    const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
    const empty = (rules: unknown) => rules === undefined || rules === null || (Array.isArray(rules) && rules.length === 0);
    return selectsAll && types.includes("Ingress") && types.includes("Egress") && empty(spec.ingress) && empty(spec.egress);
}

export const namespaceDefaultDeny: StackValidationPolicy = {
    name: "namespace-default-deny",
    description: "Every bank Namespace has a NetworkPolicy selecting all pods that denies all ingress and egress (others then admit what must flow).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const policies = args.resources.filter((r) => r.type === NETWORK_POLICY_TYPE);
        for (const ns of args.resources.filter((r) => r.type === NAMESPACE_TYPE)) {
            const name = nameOf(ns.props);
            const inNamespace = policies.filter((p) => namespaceOf(p.props) === name);
            if (!inNamespace.some((p) => isDefaultDeny(p.props))) {
                reportViolation(`Namespace "${name}" has no default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules).`, ns.urn);
            }
        }
    },
};
