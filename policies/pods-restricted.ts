/** Mandatory: the bank namespace enforces the "restricted" Pod Security Standard; a pod that breaks it is rejected at admission, after `pulumi up` has started. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isObject, Obj, podMetadataOf, podSpecOf } from "./lib/kubernetes";

/** Volume types the restricted profile allows. */
const ALLOWED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
/** Sysctls the baseline profile allows. */
const SAFE_SYSCTLS = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"];
const SELINUX_TYPES = ["container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

/** Every way a pod spec breaks the restricted profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export function restrictedProblems(spec: Obj, podMetadata: Obj = {}): string[] {
    const problems: string[] = [];
    const pod = isObject(spec.securityContext) ? spec.securityContext : {};
    for (const host of ["hostNetwork", "hostPID", "hostIPC"]) {
        if (spec[host] === true) problems.push(`spec.${host} is true: host namespaces are forbidden.`);
    }
    (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v: unknown, i: number) => {
        if (!isObject(v)) return;
        const kind = Object.keys(v).find((k) => k !== "name");
        if (kind && !ALLOWED_VOLUMES.includes(kind)) problems.push(`volumes[${i}] "${String(v.name)}" is a ${kind} volume: only ${ALLOWED_VOLUMES.join(", ")} are allowed.`);
    });
    const sysctls = Array.isArray(pod.sysctls) ? pod.sysctls : [];
    for (const s of sysctls) {
        if (isObject(s) && !SAFE_SYSCTLS.includes(String(s.name))) problems.push(`securityContext.sysctls sets "${String(s.name)}": only the safe sysctls are allowed.`);
    }
    if (pod.runAsUser === 0) problems.push("securityContext.runAsUser is 0: pods must not run as root.");
    problems.push(...seLinuxProblems("securityContext", pod.seLinuxOptions));
    if (isObject(pod.appArmorProfile) && pod.appArmorProfile.type === "Unconfined") problems.push("securityContext.appArmorProfile is Unconfined.");
    const podSeccomp = isObject(pod.seccompProfile) ? pod.seccompProfile.type : undefined;
    if (podSeccomp !== undefined && !["RuntimeDefault", "Localhost"].includes(String(podSeccomp))) {
        problems.push(`securityContext.seccompProfile.type is ${String(podSeccomp)}: use RuntimeDefault or Localhost.`);
    }
    const annotations = isObject(podMetadata.annotations) ? podMetadata.annotations : {};
    for (const [k, v] of Object.entries(annotations)) {
        if (k.startsWith("container.apparmor.security.beta.kubernetes.io/") && v === "unconfined") problems.push(`annotation ${k} is unconfined.`);
    }

    for (const { where, container, list } of containersOf(spec)) {
        const sc = isObject(container.securityContext) ? container.securityContext : {};
        const at = `${where} securityContext`;
        if (sc.privileged === true) problems.push(`${at}.privileged is true.`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}.allowPrivilegeEscalation must be false.`);
        const caps = isObject(sc.capabilities) ? sc.capabilities : {};
        const drop: unknown[] = Array.isArray(caps.drop) ? caps.drop : [];
        if (!drop.includes("ALL")) problems.push(`${at}.capabilities.drop must include "ALL".`);
        for (const cap of Array.isArray(caps.add) ? caps.add : []) {
            if (cap !== "NET_BIND_SERVICE") problems.push(`${at}.capabilities.add has ${String(cap)}: only NET_BIND_SERVICE may be added.`);
        }
        const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
        if (nonRoot !== true) problems.push(`${at}.runAsNonRoot must be true (here or in the pod's securityContext).`);
        if (sc.runAsUser === 0) problems.push(`${at}.runAsUser is 0: containers must not run as root.`);
        const seccomp = isObject(sc.seccompProfile) ? sc.seccompProfile.type : podSeccomp;
        if (!["RuntimeDefault", "Localhost"].includes(String(seccomp))) {
            problems.push(`${at}.seccompProfile.type must be RuntimeDefault or Localhost (here or in the pod's securityContext)${seccomp ? `, got ${String(seccomp)}` : ""}.`);
        }
        if (sc.procMount !== undefined && sc.procMount !== "Default") problems.push(`${at}.procMount must be Default.`);
        if (isObject(sc.appArmorProfile) && sc.appArmorProfile.type === "Unconfined") problems.push(`${at}.appArmorProfile is Unconfined.`);
        problems.push(...seLinuxProblems(at, sc.seLinuxOptions));
        if (list !== "ephemeralContainers") {
            (Array.isArray(container.ports) ? container.ports : []).forEach((p: unknown) => {
                if (isObject(p) && p.hostPort !== undefined && p.hostPort !== 0) problems.push(`${where} uses hostPort ${String(p.hostPort)}: host ports are forbidden.`);
            });
        }
    }
    return problems;
}

function seLinuxProblems(at: string, options: unknown): string[] {
    if (!isObject(options)) return [];
    const problems: string[] = [];
    if (options.type !== undefined && options.type !== "" && !SELINUX_TYPES.includes(String(options.type))) problems.push(`${at}.seLinuxOptions.type ${String(options.type)} is not allowed.`);
    if (options.user) problems.push(`${at}.seLinuxOptions.user must not be set.`);
    if (options.role) problems.push(`${at}.seLinuxOptions.role must not be set.`);
    return problems;
}

export const podsRestricted: ResourceValidationPolicy = {
    name: "pods-restricted",
    description: "Every pod spec (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) meets the restricted Pod Security Standard.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const spec = podSpecOf(args.type, args.props);
        if (!spec) return;
        for (const problem of restrictedProblems(spec, podMetadataOf(args.type, args.props))) reportViolation(problem);
    },
};
