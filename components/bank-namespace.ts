import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Resource ceilings of one bank's namespace. */
export interface NamespaceQuota {
    /** Sum of CPU requests, e.g. "4". */
    requestsCpu: string;
    /** Sum of memory requests, e.g. "8Gi". */
    requestsMemory: string;
    /** Sum of CPU limits. */
    limitsCpu: string;
    /** Sum of memory limits. */
    limitsMemory: string;
    /** Number of pods. */
    pods: number;
}

export interface BankNamespaceArgs {
    /** Namespace name, `bank-<alias>-<env>`. */
    name: string;
    /** Labels for the namespace and every object in it. */
    labels: Record<string, string>;
    /** Resource ceilings; default 4 CPU / 8Gi requested, 8 CPU / 16Gi limits, 40 pods. */
    quota?: NamespaceQuota;
}

const DEFAULT_QUOTA: NamespaceQuota = { requestsCpu: "4", requestsMemory: "8Gi", limitsCpu: "8", limitsMemory: "16Gi", pods: 40 };

/**
 * The bank's namespace: isolated by a default-deny NetworkPolicy (later policies admit only what must flow),
 * bounded by a ResourceQuota, with LimitRange defaults, and enforcing the "restricted" Pod Security Standard.
 */
export class BankNamespace extends pulumi.ComponentResource {
    /** The namespace's name, available once it exists. */
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: BankNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:BankNamespace", name, {}, opts);
        const quota = args.quota ?? DEFAULT_QUOTA;
        const labels = { ...args.labels, "app.kubernetes.io/name": "bank-namespace", "app.kubernetes.io/component": "namespace" };

        const namespace = new k8s.core.v1.Namespace(name, {
            metadata: {
                name: args.name,
                labels: {
                    ...labels,
                    // The admission controller rejects any pod that is not "restricted".
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                },
            },
        }, { parent: this });
        this.name = namespace.metadata.name;
        const metadata = (objectName: string) => ({ name: objectName, namespace: this.name, labels });

        new k8s.networking.v1.NetworkPolicy(`${name}-default-deny`, {
            metadata: metadata("default-deny-all"),
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        }, { parent: this });

        new k8s.core.v1.ResourceQuota(`${name}-quota`, {
            metadata: metadata("bank-quota"),
            spec: {
                hard: {
                    "requests.cpu": quota.requestsCpu,
                    "requests.memory": quota.requestsMemory,
                    "limits.cpu": quota.limitsCpu,
                    "limits.memory": quota.limitsMemory,
                    pods: String(quota.pods),
                },
            },
        }, { parent: this });

        new k8s.core.v1.LimitRange(`${name}-limits`, {
            metadata: metadata("container-defaults"),
            spec: {
                limits: [{
                    type: "Container",
                    defaultRequest: { cpu: "50m", memory: "64Mi" },
                    default: { cpu: "500m", memory: "256Mi" },
                    max: { cpu: "2", memory: "2Gi" },
                }],
            },
        }, { parent: this });

        this.registerOutputs({ name: this.name });
    }
}
