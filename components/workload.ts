/**
 * Pure building blocks of the bank's pods: the "restricted" Pod Security Standard, resources and probes.
 * No Pulumi resource here; the components use these so every pod is hardened the same way.
 */
import type * as k8s from "@pulumi/kubernetes";

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
