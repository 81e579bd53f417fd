/**
 * The fleet on the Pulumi Kubernetes Operator (v2.9.0): for one bank, the `pulumi.com/v1` Stack the operator
 * reconciles and what its workspace needs (a ServiceAccount with rights only to the kinds and namespaces the bank's
 * own render holds). Pure: the caller renders the bank (offline) and applies the objects (kubectl or the API).
 */
import type { KubernetesObject } from "./manifests";
import type { OperatorSettings, StackSettings } from "../../../domain/config";

/** The operator's Stack API refuses longer names (its CRD's CEL rule): its StatefulSet's pod names must fit a label. */
export const STACK_NAME_MAX = 42;
/** Field manager of every server-side apply of ours, so a conflict names who owns the field. */
export const FIELD_MANAGER = "dcm-fleet";
/** Label on every object `fleet -- operator` writes: what `kubectl get -l` and the prune of a removed bank select. */
export const MANAGED_BY = { "app.kubernetes.io/managed-by": FIELD_MANAGER } as const;
export const BANK_LABEL = "dcm.example.com/bank";

/**
 * A TypeScript workspace (npm install, ts-node, the provider plugins) takes 1.3 to 2.4 GiB of ephemeral storage
 * (operator issue #1308): with no request the scheduler packs them onto one node and the kubelet evicts updates in
 * flight, leaving stacks wedged. Requested at the top of that range; the limit leaves room for a plugin download.
 */
export const WORKSPACE_RESOURCES = {
    requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "3Gi" },
    limits: { cpu: "2", memory: "2Gi", "ephemeral-storage": "4Gi" },
} as const;
/** The operator's init containers (copy the agent, clone the program): small, but bounded like every container. */
const INIT_RESOURCES = {
    requests: { cpu: "100m", memory: "64Mi", "ephemeral-storage": "64Mi" },
    limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "1Gi" },
} as const;

/** One bank's objects for the operator, in apply order (RBAC before the Stack that uses it). */
export interface OperatorBank {
    alias: string;
    /** The Stack object's name (≤ 42 characters). */
    stackName: string;
    objects: KubernetesObject[];
}

/** Names `fleet -- operator` derives from a bank: one rule, here. */
export function operatorNames(settings: StackSettings): { stack: string; serviceAccount: string; role: string } {
    const alias = settings.bank.alias;
    return { stack: alias, serviceAccount: `pulumi-${alias}`, role: `dcm-fleet-${alias}` };
}

/** Why a bank cannot have a Stack object, or undefined. The alias is a DNS label already; only its length can break. */
export function stackNameProblem(alias: string): string | undefined {
    return alias.length > STACK_NAME_MAX
        ? `alias '${alias}' is ${alias.length} characters: a Stack object's name (the alias) may have at most ${STACK_NAME_MAX} (the operator's rule)`
        : undefined;
}

/** Credentials each backend kind needs in the workspace's environment (the keys of the credentials Secret). */
export function backendCredentialKeys(backend: string): string[] {
    const scheme = backend.slice(0, backend.indexOf(":"));
    const keys: Record<string, string[]> = {
        s3: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        gs: ["GOOGLE_CREDENTIALS"],
        azblob: ["AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY"],
        https: ["PULUMI_ACCESS_TOKEN"],
    };
    return keys[scheme] ?? [];
}

/** A rule of a Role or ClusterRole. */
export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    resourceNames?: string[];
    verbs: string[];
}

/** What the Kubernetes provider does to an object it manages (server-side apply is a patch; refresh reads). */
const MANAGE_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];
/** Outside the bank's namespace: read and change only the named objects (create cannot be limited by name). */
const NAMED_VERBS = ["get", "update", "patch", "delete"];
/**
 * Read-only rights the provider's await logic uses in the bank's namespace: a Deployment is ready when its
 * ReplicaSet's pods are, a Service when its endpoints are, and failures are read from events.
 */
const AWAIT_READS: PolicyRule[] = [
    { apiGroups: [""], resources: ["pods", "endpoints", "events"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["get", "list", "watch"] },
];

/** The REST resource of a kind (Kubernetes' lower-case plural). */
export function resourceOf(kind: string): string {
    const lower = kind.toLowerCase();
    if (lower.endsWith("y")) return `${lower.slice(0, -1)}ies`;
    if (lower.endsWith("s")) return `${lower}es`;
    return `${lower}s`;
}

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "");

/**
 * The workspace's rights, derived from what the bank's render holds: every kind in the bank's namespace; by name the
 * objects elsewhere (DCM's signer namespace) and the bank's Namespace itself. Never a wildcard, never cluster-admin.
 */
export function workspaceRules(render: readonly KubernetesObject[], bankNamespace: string): { cluster: PolicyRule[]; namespaced: Map<string, PolicyRule[]> } {
    const cluster = new Map<string, PolicyRule>();
    const byNamespace = new Map<string, Map<string, PolicyRule>>();
    const add = (into: Map<string, PolicyRule>, group: string, resource: string, names: string[] | undefined, verbs: string[]) => {
        const key = `${group}/${resource}/${verbs.join()}/${names ? "named" : "any"}`;
        const rule = into.get(key) ?? { apiGroups: [group], resources: [resource], ...(names ? { resourceNames: [] } : {}), verbs };
        if (names) for (const n of names) if (!rule.resourceNames!.includes(n)) rule.resourceNames!.push(n);
        into.set(key, rule);
    };
    for (const o of render) {
        const group = groupOf(o.apiVersion);
        const resource = resourceOf(o.kind);
        const ns = o.metadata.namespace;
        if (!ns) {
            // Cluster-scoped (the bank's Namespace): by name, plus create, which takes no name.
            add(cluster, group, resource, [o.metadata.name], NAMED_VERBS);
            add(cluster, group, resource, undefined, ["create"]);
            continue;
        }
        const into = byNamespace.get(ns) ?? new Map<string, PolicyRule>();
        byNamespace.set(ns, into);
        if (ns === bankNamespace) add(into, group, resource, undefined, MANAGE_VERBS);
        else {
            add(into, group, resource, [o.metadata.name], NAMED_VERBS);
            add(into, group, resource, undefined, ["create"]);
        }
    }
    const namespaced = new Map<string, PolicyRule[]>();
    for (const [ns, rules] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
        namespaced.set(ns, [...[...rules.values()].sort(ruleOrder), ...(ns === bankNamespace ? AWAIT_READS : [])]);
    }
    return { cluster: [...cluster.values()].sort(ruleOrder), namespaced };
}

const ruleOrder = (a: PolicyRule, b: PolicyRule) =>
    `${a.apiGroups[0]}/${a.resources[0]}/${a.verbs.join()}`.localeCompare(`${b.apiGroups[0]}/${b.resources[0]}/${b.verbs.join()}`);

/** The pinned program: which repository and commit every workspace clones. */
export interface ProgramSource {
    /** Full 40-hex commit id (a branch would move under a running fleet). */
    commit: string;
}

/** What onboarding adds to a bank's Stack: the ticket's data as stack config, and where it came from. */
export interface StackExtras {
    /** Non-secret config values (keys without the project namespace), laid over the stack file's. */
    config?: Record<string, string>;
    annotations?: Record<string, string>;
}

/**
 * One bank's operator objects.
 * @param settings the bank's validated settings (its platform part holds the operator's)
 * @param render the bank's Kubernetes objects from its offline render (what its stack manages)
 */
export function operatorObjects(settings: StackSettings, render: readonly KubernetesObject[], source: ProgramSource, extra: StackExtras = {}): OperatorBank {
    const op = settings.platform.operator;
    const names = operatorNames(settings);
    const nameRule = stackNameProblem(settings.bank.alias);
    if (nameRule) throw new Error(nameRule);
    if (!/^[0-9a-f]{40}$/.test(source.commit)) throw new Error(`the program's commit must be a full 40-hex commit id; got '${source.commit}'`);
    const labels = { ...MANAGED_BY, [BANK_LABEL]: settings.bank.alias };
    const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), labels: { ...labels } });
    const rules = workspaceRules(render, settings.namespace);
    const subject = { kind: "ServiceAccount", name: names.serviceAccount, namespace: op.namespace };
    const objects: KubernetesObject[] = [
        // The workspace pod runs the Pulumi CLI with this identity: the stack's rights, nothing more.
        { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(names.serviceAccount, op.namespace) },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: meta(names.role), rules: rules.cluster },
        {
            apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: meta(names.role),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: names.role }, subjects: [subject],
        },
        // The Role in the bank's namespace needs the namespace: created bare here (no labels, no field the stack sets),
        // so the stack's own server-side apply of it later is an upsert without a conflict.
        { apiVersion: "v1", kind: "Namespace", metadata: { name: settings.namespace } },
    ];
    for (const [ns, nsRules] of rules.namespaced) {
        objects.push(
            { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta(names.role, ns), rules: nsRules },
            {
                apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: meta(names.role, ns),
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.role }, subjects: [subject],
            },
        );
    }
    const stack = stackObject(settings.bank.alias, names, op, source, labels);
    if (extra.annotations) stack.metadata.annotations = { ...extra.annotations };
    // A bank onboarded from Jira before its stack file is in the pinned commit: its ticket's (non-secret) data.
    if (extra.config) (stack.spec as Record<string, unknown>).config = { ...extra.config };
    objects.push(stack);
    return { alias: settings.bank.alias, stackName: names.stack, objects };
}

function stackObject(alias: string, names: ReturnType<typeof operatorNames>, op: OperatorSettings, source: ProgramSource, labels: Record<string, string>): KubernetesObject {
    const secretRef = (key: string) => ({ type: "Secret", secret: { name: op.credentialsSecret, key } });
    const envRefs = Object.fromEntries(["PULUMI_CONFIG_PASSPHRASE", ...backendCredentialKeys(op.backend)].map((k) => [k, secretRef(k)]));
    return {
        apiVersion: "pulumi.com/v1",
        kind: "Stack",
        metadata: { name: names.stack, namespace: op.namespace, labels: { ...labels } },
        spec: {
            stack: alias,
            projectRepo: op.programRepo,
            commit: source.commit,
            backend: op.backend,
            // The stack files' secure: values are passphrase-encrypted; the passphrase comes from the Secret by reference.
            secretsProvider: "passphrase",
            envRefs,
            // Drift: every resync refreshes first and fails on a difference, so the Stack's Ready condition turns False
            // with the refresh's message (docs/devops.md, "Drift"); the next up runs only once someone looked.
            refresh: true,
            expectNoRefreshChanges: true,
            resyncFrequencySeconds: op.resyncSeconds,
            continueResyncOnCommitMatch: true,
            // Deleting the Stack object (or the operator) never destroys a bank.
            destroyOnFinalize: false,
            serviceAccountName: names.serviceAccount,
            // A pod per bank held between resyncs would cost its memory and disk × every bank; it is made again per update.
            workspaceReclaimPolicy: "Delete",
            retryMaxBackoffDurationSeconds: 3600,
            workspaceTemplate: {
                spec: {
                    image: op.workspaceImage,
                    imagePullPolicy: "IfNotPresent",
                    // The operator's restricted profile: non-root uid 1000, RuntimeDefault seccomp, no privilege escalation,
                    // every capability dropped (NET_BIND_SERVICE added back, which the restricted standard allows).
                    securityProfile: "restricted",
                    resources: WORKSPACE_RESOURCES,
                    podTemplate: {
                        spec: {
                            automountServiceAccountToken: true,
                            // The schema requires the list; merged by name onto the operator's own container, changing nothing.
                            containers: [{ name: "pulumi" }],
                            initContainers: [
                                { name: "bootstrap", resources: INIT_RESOURCES },
                                { name: "fetch", resources: INIT_RESOURCES },
                            ],
                            // The workspace lives on this volume: bounded like the container, so a full disk fails the
                            // update instead of evicting the node's other pods.
                            volumes: [{ name: "share", emptyDir: { sizeLimit: WORKSPACE_RESOURCES.limits["ephemeral-storage"] } }],
                        },
                    },
                },
            },
        },
    };
}

/**
 * The operator's namespace, once for the fleet: the restricted Pod Security Standard enforced on it, so a workspace
 * pod that broke it (a template edited by hand) is refused by the API server, not only by our own checks.
 */
export function operatorNamespaceObject(op: OperatorSettings): KubernetesObject {
    return {
        apiVersion: "v1", kind: "Namespace",
        metadata: {
            name: op.namespace,
            labels: { ...MANAGED_BY, "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" },
        },
    };
}

/** The name of our admission policy and its binding. */
export const ADMISSION_POLICY = "dcm-fleet-stacks";

/**
 * Our policy again, in the API server (a ValidatingAdmissionPolicy, CEL): the rules of operator-policy.ts that a
 * hand edit (`kubectl edit stack`) could break later: a Stack in the operator's namespace whose destroyOnFinalize is
 * not false, or whose envRefs/secretsRef hold anything but Secret references, or with the inline `secrets` field,
 * is refused at admission. operator-policy.ts checks the same before anything is written, with every problem named.
 */
export function admissionPolicyObjects(op: OperatorSettings): KubernetesObject[] {
    const refsOnly = (field: string) =>
        `!has(object.spec.${field}) || object.spec.${field}.all(k, object.spec.${field}[k].type == 'Secret' && has(object.spec.${field}[k].secret) && !has(object.spec.${field}[k].literal))`;
    return [
        {
            apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name: ADMISSION_POLICY, labels: { ...MANAGED_BY } },
            spec: {
                failurePolicy: "Fail",
                matchConstraints: { resourceRules: [{ apiGroups: ["pulumi.com"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["stacks"] }] },
                validations: [
                    // Left out is false (the operator's own updates omit it, e.g. when it adds its finalizer); true is refused.
                    { expression: "!has(object.spec.destroyOnFinalize) || object.spec.destroyOnFinalize == false", message: "spec.destroyOnFinalize must be false: deleting a Stack must never destroy a bank (dcm-fleet policy)", reason: "Forbidden" },
                    { expression: refsOnly("envRefs"), message: "spec.envRefs must reference Kubernetes Secrets only: no literal, environment or file value (dcm-fleet policy)", reason: "Forbidden" },
                    { expression: refsOnly("secretsRef"), message: "spec.secretsRef must reference Kubernetes Secrets only: no secret inline (dcm-fleet policy)", reason: "Forbidden" },
                    { expression: "!has(object.spec.secrets) && !has(object.spec.envs)", message: "spec.secrets and spec.envs carry values inline: use secretsRef/envRefs to a Secret (dcm-fleet policy)", reason: "Forbidden" },
                ],
            },
        },
        {
            apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicyBinding", metadata: { name: ADMISSION_POLICY, labels: { ...MANAGED_BY } },
            spec: {
                policyName: ADMISSION_POLICY,
                validationActions: ["Deny"],
                matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": op.namespace } } },
            },
        },
    ];
}
