/** Mandatory: the labels are how DCM's quotas, dashboards, audits and the restricted admission profile find and govern a bank's namespace. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { labelsOf, nameOf } from "./lib/kubernetes";
import { aliasOfUrn } from "./lib/stack";

const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
/** Labels every bank namespace carries; a value of undefined means any non-empty value. */
export const REQUIRED_NAMESPACE_LABELS: Record<string, string | undefined> = {
    "app.kubernetes.io/part-of": "dcm-integration",
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/instance": undefined,
    "dcm/alias": undefined,
    "dcm/asset-code": undefined,
    "dcm/environment": undefined,
    "pod-security.kubernetes.io/enforce": "restricted",
};

export const namespaceLabels: StackValidationPolicy = {
    name: "namespace-labels",
    description: "The stack has a bank Namespace carrying the required labels, dcm/alias equal to the stack's alias and the restricted Pod Security profile enforced.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const namespaces = args.resources.filter((r) => r.type === NAMESPACE_TYPE);
        if (namespaces.length === 0) {
            reportViolation("The stack creates no Namespace: every bank lives in its own labelled namespace.");
            return;
        }
        for (const ns of namespaces) {
            const labels = labelsOf(ns.props);
            const alias = aliasOfUrn(ns.urn);
            const expected: Record<string, string | undefined> = { ...REQUIRED_NAMESPACE_LABELS, "dcm/alias": alias };
            for (const [key, value] of Object.entries(expected)) {
                const actual = labels[key];
                if (actual === undefined || actual === "") reportViolation(`Namespace "${nameOf(ns.props)}" lacks the label ${key}${value ? `=${value}` : ""}.`, ns.urn);
                else if (value !== undefined && actual !== value) reportViolation(`Namespace "${nameOf(ns.props)}" has ${key}=${actual}, expected ${value}.`, ns.urn);
            }
        }
    },
};
