import * as pulumi from "@pulumi/pulumi";
import { hardenedWorkload, httpProbe, resources, RESTRICTED_CONTAINER } from "./workload";

/** Port the backoffice frontend image serves on (unprivileged). */
export const FRONTEND_PORT = 8080;
/** uid the frontend image runs as. */
const FRONTEND_UID = 101;

export interface FrontendArgs {
    /** Namespace of every object. */
    namespace: pulumi.Input<string>;
    /** Bank labels; the component adds name and component labels. */
    labels: Record<string, string>;
    /** Pinned frontend image. */
    image: string;
    /** Base URL of DCM's API for this bank (`https://api-<alias>-<env>.<domain>`). */
    apiBaseUrl: string;
    /** Kratos' public URL (`https://backoffice-<alias>-<env>.<domain>/.ory`). */
    kratosPublicUrl: string;
    /** The bank's alias and display name, shown in the UI. */
    bank: { alias: string; displayName: string };
    /** Replicas; default 2 (a PodDisruptionBudget keeps one during drains). */
    replicas?: number;
}

/** The backoffice UI (plan step 5): a hardened Deployment, its PodDisruptionBudget and a ClusterIP Service. */
export class Frontend extends pulumi.ComponentResource {
    /** Name of the Service (port 8080). */
    public readonly serviceName: pulumi.Output<string>;
    /** Pod labels (for NetworkPolicies). */
    public readonly podLabels: Record<string, string>;

    constructor(name: string, args: FrontendArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:Frontend", name, {}, opts);
        const replicas = args.replicas ?? 2;
        const labels = { ...args.labels, "app.kubernetes.io/name": "frontend", "app.kubernetes.io/component": "backoffice-ui" };
        const meta = { name: "frontend", namespace: args.namespace, labels };
        this.podLabels = { "app.kubernetes.io/name": "frontend", "dcm/role": "frontend" };

        const workload = hardenedWorkload({
            owner: this,
            ownerName: `Frontend ${name}`,
            deploymentName: `${name}-deployment`,
            metadata: meta,
            replicas,
            podLabels: this.podLabels,
            templateLabels: { ...labels, ...this.podLabels },
            // The UI calls nothing in the cluster's API (no service account token either way).
            uid: FRONTEND_UID,
            containers: [{
                name: "frontend",
                image: args.image,
                env: [
                    { name: "DCM_API_BASE_URL", value: args.apiBaseUrl },
                    { name: "KRATOS_PUBLIC_URL", value: args.kratosPublicUrl },
                    { name: "BANK_ALIAS", value: args.bank.alias },
                    { name: "BANK_DISPLAY_NAME", value: args.bank.displayName },
                ],
                ports: [{ name: "http", containerPort: FRONTEND_PORT, protocol: "TCP" }],
                // The server writes its cache and pid only under /tmp.
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                securityContext: RESTRICTED_CONTAINER,
                resources: resources("50m", "128Mi", "500m"),
                livenessProbe: httpProbe("/", "http", 10, 3),
                readinessProbe: httpProbe("/", "http", 5, 3),
            }],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
            // With one replica a budget of one would block every drain: none.
            disruptionBudget: replicas > 1 ? { name: `${name}-pdb`, metadata: meta, minAvailable: 1 } : undefined,
            services: [{ name: `${name}-service`, metadata: meta, ports: [{ name: "http", port: 80 }] }],
        });
        this.serviceName = workload.serviceNames[0];

        this.registerOutputs({ serviceName: this.serviceName });
    }
}
