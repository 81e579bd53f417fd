/** Mandatory: the Kratos admin API creates identities and recovery codes; only the first-employee Job may reach it, and only it may carry the label that admits it. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { KRATOS_ADMIN_CLIENT_LABEL } from "../domain/names";
import { isObject, nameOf, Obj, podMetadataOf, POD_SPEC_TYPES } from "./lib/kubernetes";

const NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
/** Kratos' admin port and its container port name. */
const ADMIN_PORTS: unknown[] = [4434, "http-admin", "admin"];
/** The only workload allowed to carry the admin-client label: the first-employee Job's pods. */
const BOOTSTRAP = { type: "kubernetes:batch/v1:Job", role: "first-employee-bootstrap" };

/** True if a NetworkPolicy ingress rule admits the admin port (a rule without ports admits every port). */
function admitsAdminPort(rule: Obj): boolean {
    const ports: unknown[] = Array.isArray(rule.ports) ? rule.ports : [];
    return ports.length === 0 || ports.some((p) => isObject(p) && (p.port === undefined || ADMIN_PORTS.includes(p.port)));
}

/** Why one peer of a rule admitting the admin port is too wide, or undefined if it selects the admin client label only. */
function peerProblem(peer: unknown): string | undefined {
    if (!isObject(peer)) return "is not a peer";
    if (peer.ipBlock !== undefined) return "is an ipBlock";
    if (peer.namespaceSelector !== undefined) return "selects namespaces (other namespaces' pods would be admitted)";
    const matchLabels = isObject(peer.podSelector) && isObject(peer.podSelector.matchLabels) ? peer.podSelector.matchLabels : {};
    if (matchLabels[KRATOS_ADMIN_CLIENT_LABEL.key] !== KRATOS_ADMIN_CLIENT_LABEL.value) {
        return `does not require the label ${KRATOS_ADMIN_CLIENT_LABEL.key}=${KRATOS_ADMIN_CLIENT_LABEL.value}`;
    }
    return undefined;
}

export const networkKratosAdminClient: StackValidationPolicy = {
    name: "network-kratos-admin-client",
    description: `Ingress to Kratos admin (4434) admits only pods labelled ${KRATOS_ADMIN_CLIENT_LABEL.key}=${KRATOS_ADMIN_CLIENT_LABEL.value}, and only the first-employee Job's pods carry that label.`,
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const r of args.resources.filter((x) => x.type === NETWORK_POLICY_TYPE)) {
            const spec = isObject(r.props.spec) ? r.props.spec : {};
            const rules: unknown[] = Array.isArray(spec.ingress) ? spec.ingress : [];
            const selected = isObject(spec.podSelector) && isObject(spec.podSelector.matchLabels) ? spec.podSelector.matchLabels : {};
            // Only policies that select Kratos server pods can admit traffic to its admin port.
            if (selected["app.kubernetes.io/name"] !== "kratos" && selected["dcm/role"] !== "kratos-server") continue;
            rules.forEach((rule, i) => {
                if (!isObject(rule) || !admitsAdminPort(rule)) return;
                const peers: unknown[] = Array.isArray(rule.from) ? rule.from : [];
                if (peers.length === 0) reportViolation(`NetworkPolicy "${nameOf(r.props)}" spec.ingress[${i}] admits the Kratos admin port from every source.`, r.urn);
                peers.forEach((peer, j) => {
                    const problem = peerProblem(peer);
                    if (problem) reportViolation(`NetworkPolicy "${nameOf(r.props)}" spec.ingress[${i}].from[${j}] admits the Kratos admin port but ${problem}.`, r.urn);
                });
            });
        }
        for (const r of args.resources.filter((x) => POD_SPEC_TYPES.includes(x.type))) {
            const labels = { ...podMetadataOf(r.type, r.props).labels } as Record<string, unknown>;
            if (labels[KRATOS_ADMIN_CLIENT_LABEL.key] === undefined) continue;
            const isBootstrap = r.type === BOOTSTRAP.type && labels["dcm/role"] === BOOTSTRAP.role;
            if (!isBootstrap) {
                reportViolation(`${nameOf(r.props) || r.name} (${r.type.split(":").pop()}) carries ${KRATOS_ADMIN_CLIENT_LABEL.key} on its pods: only the first-employee Job may reach the Kratos admin API.`, r.urn);
            }
        }
    },
};
