/** Mandatory: whoever reads the signing key can make the bank's key keeper hand over both entity secrets; it lives with DCM's signer, readable by its service account alone. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { isObject, labelsOf, nameOf, namespaceOf, Obj } from "./lib/kubernetes";

const SECRET_TYPE = "kubernetes:core/v1:Secret";
const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
const ROLE_TYPES = ["kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"];
const BINDING_TYPES = ["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"];

/** The signer Secret: `jwt-signing-key` (its former name) or `jwt-signing-key-<alias>-<environment>`. */
export function isSignerSecretName(name: string): boolean {
    return name === "jwt-signing-key" || name.startsWith("jwt-signing-key-");
}

/** True if a Role rule can read a Secret of this name (resource "secrets" or "*", any read verb, no or a matching resourceNames). */
function ruleReads(rule: unknown, secretName: string): boolean {
    if (!isObject(rule)) return false;
    const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
    const groups = list(rule.apiGroups);
    const resources = list(rule.resources);
    const verbs = list(rule.verbs);
    const names = list(rule.resourceNames);
    return (groups.includes("") || groups.includes("*"))
        && (resources.includes("secrets") || resources.includes("*"))
        && verbs.some((v) => ["get", "list", "watch", "*"].includes(String(v)))
        && (names.length === 0 || names.includes(secretName));
}

export const keysSignerSecretAccess: StackValidationPolicy = {
    name: "keys-signer-secret-access",
    description: "The signing key Secret (jwt-signing-key*) is not in a bank Namespace; the stack grants read access to it only by a Role naming it, verb get, bound to service accounts of its own namespace.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const bankNamespaces = new Set(args.resources
            .filter((r) => r.type === NAMESPACE_TYPE && labelsOf(r.props)["dcm/alias"] !== undefined)
            .map((r) => nameOf(r.props)));
        const roles = args.resources.filter((r) => ROLE_TYPES.includes(r.type));
        const bindings = args.resources.filter((r) => BINDING_TYPES.includes(r.type));
        for (const secret of args.resources.filter((r) => r.type === SECRET_TYPE && isSignerSecretName(nameOf(r.props)))) {
            const name = nameOf(secret.props);
            const ns = namespaceOf(secret.props) ?? "";
            if (bankNamespaces.has(ns)) {
                reportViolation(`Secret "${name}" holds DCM's signing key in the bank's namespace "${ns}": put it in the signer's namespace (signerNamespace).`, secret.urn);
            }
            const readers = roles.filter((r) => (r.type.endsWith(":ClusterRole") || namespaceOf(r.props) === ns)
                && (Array.isArray(r.props.rules) ? r.props.rules : []).some((rule: unknown) => ruleReads(rule, name)));
            if (readers.length === 0) {
                reportViolation(`Secret "${name}" has no Role granting its signer read access (get on resourceNames ["${name}"]).`, secret.urn);
            }
            for (const role of readers) {
                const rules: Obj[] = (Array.isArray(role.props.rules) ? role.props.rules : []).filter((rule: unknown) => ruleReads(rule, name));
                const exact = role.type.endsWith(":Role") && rules.every((rule) => {
                    const names: unknown[] = Array.isArray(rule.resourceNames) ? rule.resourceNames : [];
                    const verbs: unknown[] = Array.isArray(rule.verbs) ? rule.verbs : [];
                    return names.length === 1 && names[0] === name && verbs.length === 1 && verbs[0] === "get";
                });
                if (!exact) {
                    reportViolation(`${role.type.split(":").pop()} "${nameOf(role.props)}" can read Secret "${name}" beyond "get" on that one name: grant only get with resourceNames ["${name}"].`, role.urn);
                }
                for (const binding of bindings.filter((b) => isObject(b.props.roleRef) && b.props.roleRef.name === nameOf(role.props)
                    && (b.type.endsWith(":ClusterRoleBinding") || namespaceOf(b.props) === namespaceOf(role.props)))) {
                    const subjects: unknown[] = Array.isArray(binding.props.subjects) ? binding.props.subjects : [];
                    for (const [i, subject] of subjects.entries()) {
                        const ok = isObject(subject) && subject.kind === "ServiceAccount" && subject.namespace === ns;
                        if (!ok) {
                            reportViolation(`${binding.type.split(":").pop()} "${nameOf(binding.props)}" subjects[${i}] may read Secret "${name}": only service accounts of "${ns}" (the signer's) may.`, binding.urn);
                        }
                    }
                }
            }
        }
    },
};
