import { StackSettings } from "./validation";

/** Labels every object of a bank carries: the Kubernetes recommended labels plus DCM's own. */
export function bankLabels(settings: StackSettings): Record<string, string> {
    const { bank, platform } = settings;
    return {
        "app.kubernetes.io/part-of": "dcm-integration",
        "app.kubernetes.io/instance": `${bank.alias}-${platform.environment}`,
        "app.kubernetes.io/managed-by": "pulumi",
        "dcm/alias": bank.alias,
        "dcm/asset-code": bank.assetCode,
        "dcm/environment": platform.environment,
    };
}

/** Base labels plus the recommended name and component labels of one part of the environment. */
export function componentLabels(base: Record<string, string>, name: string, component: string): Record<string, string> {
    return { ...base, "app.kubernetes.io/name": name, "app.kubernetes.io/component": component };
}

/**
 * The label that admits a pod to the Kratos admin API (NetworkPolicy `kratos-admin-from-bootstrap`). Only the
 * first-employee Job's pod template carries it (the policy pack's `network-kratos-admin-client` checks that no
 * other workload does), so no pod gets there by sharing a common label such as `app.kubernetes.io/name`.
 */
export const KRATOS_ADMIN_CLIENT_LABEL = { key: "dcm/kratos-admin-client", value: "first-employee-bootstrap" } as const;
