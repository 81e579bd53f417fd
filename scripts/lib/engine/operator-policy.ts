/**
 * Our policy for the operator's objects, checked before `fleet -- operator` writes or applies anything (and by
 * the test that the API server admits what we write): a Stack never carries a secret inline, never destroys its
 * bank when deleted, and its workspace runs as the restricted standard asks with bounded resources.
 */
import type { KubernetesObject } from "./manifests";

/** One broken rule: which object, which field, what the rule is. Never quotes a value (it may be a secret). */
export interface OperatorViolation {
    object: string;
    field: string;
    rule: string;
}

/** Stack fields holding ResourceRefs (`{type, literal|secret|env|filesystem}`) or plain values that reach the workspace. */
const REF_MAPS = ["envRefs", "secretsRef"] as const;
/** Deprecated Stack fields that carry values inline or name whole Secrets outside our review. */
const INLINE_FIELDS = ["secrets", "envs", "envSecrets"] as const;
/** Recursion over a Stack's config stops here (the input is ours, but bounded all the same). */
const depthLimit = 32;

const where = (o: KubernetesObject) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

/** Every broken rule among the objects; empty when all may be written. */
export function operatorPolicyViolations(objects: readonly KubernetesObject[]): OperatorViolation[] {
    const found: OperatorViolation[] = [];
    for (const o of objects) {
        if (o.apiVersion === "pulumi.com/v1" && o.kind === "Stack") found.push(...stackViolations(o));
        if (o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding") {
            const ref = (o as { roleRef?: { name?: string } }).roleRef;
            if (ref?.name === "cluster-admin" || ref?.name === "admin" || ref?.name === "edit") {
                found.push({ object: where(o), field: "roleRef.name", rule: `must not bind the built-in '${ref.name}' role: a workspace gets only what its stack manages` });
            }
        }
        if (o.kind === "ClusterRole" || o.kind === "Role") {
            const rules = ((o as { rules?: { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[] }).rules ?? []);
            rules.forEach((r, i) => {
                if ([...(r.apiGroups ?? []), ...(r.resources ?? []), ...(r.verbs ?? [])].includes("*")) {
                    found.push({ object: where(o), field: `rules[${i}]`, rule: "must not use a wildcard: name the groups, resources and verbs the stack needs" });
                }
            });
        }
    }
    return found;
}

function stackViolations(o: KubernetesObject): OperatorViolation[] {
    const found: OperatorViolation[] = [];
    const at = where(o);
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    if (spec.destroyOnFinalize !== false) {
        found.push({ object: at, field: "spec.destroyOnFinalize", rule: "must be false: deleting a Stack object must never destroy a bank's environment" });
    }
    for (const map of REF_MAPS) {
        const refs = spec[map];
        if (refs === undefined) continue;
        if (typeof refs !== "object" || refs === null || Array.isArray(refs)) {
            found.push({ object: at, field: `spec.${map}`, rule: "must be a map of references" });
            continue;
        }
        for (const [name, ref] of Object.entries(refs as Record<string, unknown>)) {
            const r = (ref ?? {}) as Record<string, unknown>;
            const secret = r.secret as Record<string, unknown> | undefined;
            if (r.type !== "Secret" || "literal" in r || "env" in r || "filesystem" in r || !secret || typeof secret.name !== "string" || typeof secret.key !== "string") {
                found.push({ object: at, field: `spec.${map}.${name}`, rule: "must reference a Kubernetes Secret by name and key (type: Secret); no literal, environment or file value" });
            } else if (secret.namespace !== undefined) {
                found.push({ object: at, field: `spec.${map}.${name}.secret.namespace`, rule: "must not name another namespace: the Secret lives beside the Stack" });
            }
        }
    }
    for (const field of INLINE_FIELDS) {
        if (spec[field] !== undefined) found.push({ object: at, field: `spec.${field}`, rule: "must not be set: values reach the workspace only by reference (envRefs, secretsRef)" });
    }
    // Secret config inline: the Stack's structured config may carry {secret: ...} values; ours never do.
    const config = spec.config;
    if (config !== undefined) walk(config, "spec.config", 0, (path, value) => {
        if (typeof value === "object" && value !== null && "secret" in value) {
            found.push({ object: at, field: path, rule: "must not hold a secret inline: secret config lives encrypted in the stack file, its key in the credentials Secret" });
        }
    });
    const gitAuth = spec.gitAuth as Record<string, unknown> | undefined;
    if (gitAuth) walk(gitAuth, "spec.gitAuth", 0, (path, value) => {
        if (typeof value === "object" && value !== null && "literal" in value) found.push({ object: at, field: path, rule: "must reference a Secret, not a literal" });
    });
    const ws = ((spec.workspaceTemplate as Record<string, unknown> | undefined)?.spec ?? {}) as Record<string, unknown>;
    if (ws.securityProfile !== "restricted") found.push({ object: at, field: "spec.workspaceTemplate.spec.securityProfile", rule: "must be restricted (the restricted Pod Security Standard)" });
    const res = (ws.resources ?? {}) as { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
    for (const kind of ["requests", "limits"] as const) {
        for (const r of ["cpu", "memory", "ephemeral-storage"]) {
            if (res[kind]?.[r] === undefined) found.push({ object: at, field: `spec.workspaceTemplate.spec.resources.${kind}.${r}`, rule: `must be set: an unbounded TypeScript workspace takes 1.3-2.4 GiB of ${r === "ephemeral-storage" ? "disk" : r} and gets evicted mid-update` });
        }
    }
    return found;
}

function walk(value: unknown, path: string, depth: number, visit: (path: string, value: unknown) => void): void {
    if (depth > depthLimit) return;
    visit(path, value);
    if (typeof value !== "object" || value === null) return;
    for (const [k, v] of Object.entries(value)) walk(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, depth + 1, visit);
}

/** The violations as lines for a refusal message. */
export function formatViolations(violations: readonly OperatorViolation[]): string {
    return [`refused by policy (${violations.length} problem${violations.length === 1 ? "" : "s"}); nothing was written or applied:`,
        ...violations.map((v) => `  - ${v.object}: ${v.field} ${v.rule}`)].join("\n");
}
