/** Workloads and the PodDisruptionBudgets that cover them. */
import type { PolicyResource } from "@pulumi/policy";
import { isObject, namespaceOf, Obj, podMetadataOf, POD_SPEC_TYPES, workloadRole } from "./kubernetes";

export const PDB_TYPE = "kubernetes:policy/v1:PodDisruptionBudget";

/** Replicas of a Deployment or StatefulSet (Kubernetes' default is 1). */
export function replicasOf(props: Obj): number {
    const spec = isObject(props.spec) ? props.spec : {};
    return typeof spec.replicas === "number" ? spec.replicas : 1;
}

/** Workloads (not bare Pods or Jobs) of a role. */
export function workloadsOf(resources: PolicyResource[], role: "frontend" | "kratos"): PolicyResource[] {
    const scalable = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"];
    return resources.filter((r) => scalable.includes(r.type) && POD_SPEC_TYPES.includes(r.type) && workloadRole(r.type, r.props) === role);
}

/** True if a PDB in the workload's namespace selects its pods. */
export function hasPdb(resources: PolicyResource[], workload: PolicyResource, matches: (selector: unknown, labels: Record<string, string>) => boolean): boolean {
    const labels = (podMetadataOf(workload.type, workload.props).labels ?? {}) as Record<string, string>;
    return resources.some((r) => r.type === PDB_TYPE
        && namespaceOf(r.props) === namespaceOf(workload.props)
        && isObject(r.props.spec) && matches(r.props.spec.selector, labels));
}
