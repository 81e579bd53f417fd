/**
 * The building blocks of the bank's pods: the "restricted" Pod Security Standard, resources and probes, and the
 * one hardened workload skeleton (Deployment, PodDisruptionBudget, Services) the long-running components share,
 * so every pod is hardened the same way and every workload keeps the same guards.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type Container = k8s.types.input.core.v1.Container;
type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;

/** Pod-level settings of the restricted standard, running as the image's own non-root uid. */
export function restrictedPodSecurity(uid: number): PodSecurityContext {
    return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } };
}

/** Container-level settings of the restricted standard, plus a read-only root filesystem. */
export const RESTRICTED_CONTAINER: Container["securityContext"] = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/** Requests and limits; memory limit equals the request so a pod is never OOM-killed for a neighbour's burst. */
export function resources(cpuRequest: string, memory: string, cpuLimit: string): Container["resources"] {
    return { requests: { cpu: cpuRequest, memory }, limits: { cpu: cpuLimit, memory } };
}

/** An HTTP GET probe on a named port. */
export function httpProbe(path: string, port: string, periodSeconds = 10, failureThreshold = 3): NonNullable<Container["readinessProbe"]> {
    return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds: 2 };
}

type Volume = k8s.types.input.core.v1.Volume;
type ServicePort = k8s.types.input.core.v1.ServicePort;
type ObjectMeta = { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> };

/** What a hardened workload is made of: one Deployment, optionally a PodDisruptionBudget, and its Services. */
export interface HardenedWorkloadArgs {
    /** The component that owns the objects (their parent), and its kind and name for messages. */
    owner: pulumi.ComponentResource;
    /** Component kind and name, e.g. "Frontend frontend": messages start with it. */
    ownerName: string;
    /** Logical name of the Deployment (its identity in state: never renamed). */
    deploymentName: string;
    /** Metadata of the Deployment. */
    metadata: ObjectMeta;
    /** Replicas: a positive integer (checked here, for every workload). */
    replicas: number;
    /** Labels that select the pods (selector, PDB, Services); a subset of the template's labels. */
    podLabels: Record<string, string>;
    /** Every label of the pod template. */
    templateLabels: Record<string, string>;
    /** Pod template annotations (e.g. a config checksum that restarts the pods). */
    annotations?: Record<string, pulumi.Input<string>>;
    /** The image's own non-root uid (restricted Pod Security Standard). */
    uid: number;
    /** A service account of the workload's own; none: the namespace default (its token is never mounted either way). */
    serviceAccountName?: pulumi.Input<string>;
    /** Init containers, if any. */
    initContainers?: Container[];
    /** The containers (each with RESTRICTED_CONTAINER, resources and probes). */
    containers: Container[];
    /** Pod volumes. */
    volumes: Volume[];
    /** Recreate instead of a rolling update that never drops below the wanted replicas (a volume two pods cannot share). */
    recreate?: boolean;
    /** The PodDisruptionBudget, if any: its logical name, metadata and one of minAvailable/maxUnavailable. */
    disruptionBudget?: { name: string; metadata: ObjectMeta; minAvailable?: number; maxUnavailable?: number };
    /** ClusterIP Services selecting the pods: logical name, metadata, ports (targetPort = the port's name). */
    services?: { name: string; metadata: ObjectMeta; ports: { name: string; port: number }[] }[];
    /** Resources the Deployment waits for. */
    dependsOn?: pulumi.Resource[];
}

/** The objects of a hardened workload. */
export interface HardenedWorkload {
    deployment: k8s.apps.v1.Deployment;
    /** Names of the Services, in the order given. */
    serviceNames: pulumi.Output<string>[];
}

/**
 * The one skeleton of the bank's long-running workloads (Frontend, JWKS server, Kratos): a Deployment whose pods
 * meet the restricted standard and never mount a service account token, an optional PodDisruptionBudget, and
 * ClusterIP Services. Guards: replicas a positive integer; a PodDisruptionBudget needs exactly one of
 * minAvailable and maxUnavailable, and with minAvailable at least one more replica than it keeps.
 */
export function hardenedWorkload(args: HardenedWorkloadArgs): HardenedWorkload {
    const fail = (message: string): never => {
        throw new pulumi.ResourceError(`${args.ownerName}: ${message}`, args.owner);
    };
    if (!Number.isInteger(args.replicas) || args.replicas < 1) fail(`replicas must be a positive integer, got ${args.replicas}`);
    if (args.containers.length === 0) fail("a workload needs at least one container");
    const budget = args.disruptionBudget;
    if (budget && (budget.minAvailable === undefined) === (budget.maxUnavailable === undefined)) fail("a PodDisruptionBudget needs exactly one of minAvailable and maxUnavailable");
    // A budget keeping every replica would block every node drain.
    if (budget?.minAvailable !== undefined && budget.minAvailable >= args.replicas) fail(`a PodDisruptionBudget with minAvailable ${budget.minAvailable} needs more than ${budget.minAvailable} replicas, got ${args.replicas}`);

    const parent = { parent: args.owner };
    const deployment = new k8s.apps.v1.Deployment(args.deploymentName, {
        metadata: args.metadata,
        spec: {
            replicas: args.replicas,
            selector: { matchLabels: args.podLabels },
            strategy: args.recreate ? { type: "Recreate" } : { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            template: {
                metadata: { labels: args.templateLabels, ...(args.annotations ? { annotations: args.annotations } : {}) },
                spec: {
                    ...(args.serviceAccountName !== undefined ? { serviceAccountName: args.serviceAccountName } : {}),
                    automountServiceAccountToken: false,
                    securityContext: restrictedPodSecurity(args.uid),
                    ...(args.initContainers !== undefined ? { initContainers: args.initContainers } : {}),
                    containers: args.containers,
                    volumes: args.volumes,
                },
            },
        },
    }, { ...parent, dependsOn: args.dependsOn ?? [] });

    if (budget) {
        new k8s.policy.v1.PodDisruptionBudget(budget.name, {
            metadata: budget.metadata,
            spec: {
                ...(budget.minAvailable !== undefined ? { minAvailable: budget.minAvailable } : { maxUnavailable: budget.maxUnavailable }),
                selector: { matchLabels: args.podLabels },
            },
        }, parent);
    }

    const serviceNames = (args.services ?? []).map((s) => new k8s.core.v1.Service(s.name, {
        metadata: s.metadata,
        spec: {
            type: "ClusterIP",
            selector: args.podLabels,
            ports: s.ports.map((p): ServicePort => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
        },
    }, parent).metadata.name);
    return { deployment, serviceNames };
}
