/** Mandatory: the Kubernetes API server (and ingress-nginx's path check) refuse these at `pulumi up` although the OpenAPI schema accepts them; found before the deploy instead. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isObject, Obj, podMetadataOf, podSpecOf } from "./lib/kubernetes";

// The API server's rules, as k8s.io/apimachinery's validation states them (test/real/apiserver.test.ts shows the real refusals).
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// IANA_SVC_NAME: a port name.
const PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES = ["/..", "/."];
// ingress-nginx refuses an Exact or Prefix path with anything else (strict-validate-path-type, on by default):
// a regex belongs in an ImplementationSpecific path.
const NGINX_STRICT_PATH = /^\/[A-Za-z0-9._\-/]*$/;

function portNameProblem(name: string): string | undefined {
    if (name.length > 15) return "must be no more than 15 characters";
    if (!PORT_NAME.test(name)) return "must contain only lower-case letters, digits and '-', starting and ending with a letter or digit";
    if (name.includes("--")) return "must not contain consecutive hyphens";
    if (!/[a-z]/.test(name)) return "must contain at least one letter";
    return undefined;
}

function labelProblems(where: string, labels: unknown): string[] {
    if (!isObject(labels)) return [];
    const out: string[] = [];
    for (const [key, value] of Object.entries(labels)) {
        const slash = key.lastIndexOf("/");
        const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : ["", key];
        if ((slash >= 0 && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) || name.length > 63 || !LABEL_NAME.test(name)) {
            out.push(`${where} key ${JSON.stringify(key)} is not a valid label key (an optional DNS-subdomain prefix and '/', then at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric).`);
        }
        if (typeof value !== "string") continue;
        if (value.length > 63 || !LABEL_VALUE.test(value)) {
            out.push(`${where}[${JSON.stringify(key)}] value ${JSON.stringify(value)} is not a valid label value (at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric).`);
        }
    }
    return out;
}

function ingressPathProblems(spec: Obj): string[] {
    const out: string[] = [];
    (Array.isArray(spec.rules) ? spec.rules : []).forEach((rule: unknown, r: number) => {
        const paths = isObject(rule) && isObject(rule.http) && Array.isArray(rule.http.paths) ? rule.http.paths : [];
        paths.forEach((p: unknown, i: number) => {
            if (!isObject(p) || typeof p.path !== "string") return;
            const where = `spec.rules[${r}].http.paths[${i}].path ${JSON.stringify(p.path)}`;
            if (p.pathType === "Exact" || p.pathType === "Prefix") {
                if (!p.path.startsWith("/")) out.push(`${where} must be an absolute path.`);
                for (const s of INVALID_PATH_SEQUENCES) if (p.path.includes(s)) out.push(`${where} must not contain '${s}'.`);
                for (const s of INVALID_PATH_SUFFIXES) if (p.path.endsWith(s)) out.push(`${where} cannot end with '${s}'.`);
                if (p.path.startsWith("/") && !NGINX_STRICT_PATH.test(p.path)) {
                    out.push(`${where} with pathType ${p.pathType} may hold only letters, digits, '.', '_', '-' and '/' (ingress-nginx refuses it); a regex needs pathType ImplementationSpecific.`);
                }
            } else if (p.path !== "" && !p.path.startsWith("/")) {
                out.push(`${where} must be an absolute path.`);
            }
        });
    });
    return out;
}

function networkPolicyPortProblems(spec: Obj): string[] {
    const out: string[] = [];
    for (const direction of ["ingress", "egress"]) {
        (Array.isArray(spec[direction]) ? spec[direction] : []).forEach((rule: unknown, r: number) => {
            const ports = isObject(rule) && Array.isArray(rule.ports) ? rule.ports : [];
            ports.forEach((p: unknown, i: number) => {
                if (!isObject(p)) return;
                const where = `spec.${direction}[${r}].ports[${i}]`;
                if (typeof p.port === "number" && !(Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535)) out.push(`${where}.port ${p.port} must be between 1 and 65535.`);
                if (typeof p.port === "string") {
                    const problem = portNameProblem(p.port);
                    if (problem) out.push(`${where}.port ${JSON.stringify(p.port)} ${problem}.`);
                }
                if (p.endPort !== undefined && p.endPort !== null) {
                    if (typeof p.port !== "number") out.push(`${where}.endPort may only be set with a numeric port.`);
                    else if (typeof p.endPort !== "number" || p.endPort < p.port || p.endPort > 65535) out.push(`${where}.endPort ${String(p.endPort)} must be between port ${p.port} and 65535.`);
                }
            });
        });
    }
    return out;
}

/** Every problem of one object's props, by its Pulumi type token. */
export function apiServerProblems(type: string, props: Obj): string[] {
    const out = labelProblems("metadata.labels", isObject(props.metadata) ? props.metadata.labels : undefined);
    const podSpec = podSpecOf(type, props);
    if (podSpec) {
        out.push(...labelProblems("pod template metadata.labels", podMetadataOf(type, props).labels));
        if (isObject(props.spec) && isObject(props.spec.selector)) out.push(...labelProblems("spec.selector.matchLabels", props.spec.selector.matchLabels));
        for (const { where, container } of containersOf(podSpec)) {
            (Array.isArray(container.ports) ? container.ports : []).forEach((port: unknown, i: number) => {
                if (!isObject(port) || typeof port.name !== "string") return;
                const problem = portNameProblem(port.name);
                if (problem) out.push(`${where} ports[${i}].name ${JSON.stringify(port.name)} ${problem}.`);
            });
        }
    }
    if (type === "kubernetes:networking.k8s.io/v1:Ingress" && isObject(props.spec)) out.push(...ingressPathProblems(props.spec));
    if (type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && isObject(props.spec)) out.push(...networkPolicyPortProblems(props.spec));
    if (type === "kubernetes:core/v1:Service" && isObject(props.spec)) {
        out.push(...labelProblems("spec.selector", props.spec.selector));
        (Array.isArray(props.spec.ports) ? props.spec.ports : []).forEach((port: unknown, i: number) => {
            if (!isObject(port) || typeof port.targetPort !== "string") return;
            const problem = portNameProblem(port.targetPort);
            if (problem) out.push(`spec.ports[${i}].targetPort ${JSON.stringify(port.targetPort)} ${problem}.`);
        });
    }
    return out;
}

export const objectsApiServerRules: ResourceValidationPolicy = {
    name: "objects-api-server-rules",
    description: "Port names, label keys and values, Ingress paths per pathType and NetworkPolicy ports follow the rules the API server (and ingress-nginx) enforce beyond the OpenAPI schema.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!args.type.startsWith("kubernetes:")) return;
        for (const problem of apiServerProblems(args.type, args.props as Obj)) reportViolation(problem);
    },
};
