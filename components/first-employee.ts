import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KRATOS_ADMIN_CLIENT_LABEL } from "../domain/names";
import { resources, RESTRICTED_CONTAINER, restrictedPodSecurity } from "./workload";

/** The script the Job runs (plain Node.js, no dependency). */
export const BOOTSTRAP_SCRIPT_PATH = path.join(__dirname, "first-employee-bootstrap.js");
/** Secret the bootstrap writes the recovery link into; DevOps reads it with kubectl (README). */
export const RECOVERY_SECRET_NAME = "first-employee-recovery";
/** uid of the `node` user in the official Node.js images. */
const NODE_UID = 1000;
/** Longest life of the recovery link (a bank's security rule; the script enforces it too). */
export const MAX_RECOVERY_EXPIRES_IN_HOURS = 24;
const DEFAULT_RECOVERY_EXPIRES_IN = `${MAX_RECOVERY_EXPIRES_IN_HOURS}h`;

export interface FirstEmployeeArgs {
    /** Namespace of every object. */
    namespace: pulumi.Input<string>;
    /** Bank labels; the component adds name and component labels. */
    labels: Record<string, string>;
    /** The first employee's email (bank config firstEmployeeEmail). */
    email: string;
    /**
     * Name of the Kratos admin Service: the Job reaches it by the address Kubernetes puts in its pods'
     * environment (<NAME>_SERVICE_HOST/PORT), with no DNS. The Service must exist before the Job's pods: give
     * the Service's own output (its metadata.name), which makes the Job wait for it.
     */
    kratosAdminService: pulumi.Input<string>;
    /** Pinned Node.js image. */
    image: string;
    /** Resources the Job must wait for (the Kratos server Deployment). */
    kratosReady: pulumi.Input<pulumi.Resource>[];
    /** Lifetime of the recovery code and link, `<n>h` or `<n>m`, at most 24h; default 24h. */
    recoveryExpiresIn?: string;
}

/**
 * Plan steps 9 and 11: a Job that creates the first employee in Kratos through the admin API (looking them up
 * first, so re-running creates no duplicate) and stores a recovery link and code in a Secret that only this Job
 * may write. The admin API stays inside the namespace; the link never reaches a log.
 */
export class FirstEmployee extends pulumi.ComponentResource {
    /** Name of the Secret holding `recovery_link`, `recovery_code`, `expires_at`, `status`. */
    public readonly recoverySecretName: pulumi.Output<string>;
    /** Pod labels of the bootstrap Job (for NetworkPolicies). */
    public readonly podLabels: Record<string, string>;

    constructor(name: string, args: FirstEmployeeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:FirstEmployee", name, {}, opts);
        const expiresIn = args.recoveryExpiresIn ?? DEFAULT_RECOVERY_EXPIRES_IN;
        const expiry = /^(\d+)(h|m)$/.exec(expiresIn);
        const minutes = expiry ? Number(expiry[1]) * (expiry[2] === "h" ? 60 : 1) : NaN;
        if (!(minutes > 0 && minutes <= MAX_RECOVERY_EXPIRES_IN_HOURS * 60)) {
            throw new pulumi.ResourceError(`FirstEmployee ${name}: recoveryExpiresIn must be like 24h or 90m, more than 0 and at most ${DEFAULT_RECOVERY_EXPIRES_IN}, got '${expiresIn}'`, this);
        }
        const labels = { ...args.labels, "app.kubernetes.io/name": "first-employee", "app.kubernetes.io/component": "bootstrap" };
        const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });
        // The admin-client label is this Job's alone: the Kratos admin NetworkPolicy admits only pods carrying it.
        this.podLabels = {
            "app.kubernetes.io/name": "first-employee",
            "dcm/role": "first-employee-bootstrap",
            [KRATOS_ADMIN_CLIENT_LABEL.key]: KRATOS_ADMIN_CLIENT_LABEL.value,
        };
        const script = fs.readFileSync(BOOTSTRAP_SCRIPT_PATH, "utf8");

        const scriptMap = new k8s.core.v1.ConfigMap(`${name}-script`, {
            metadata: meta("first-employee-bootstrap"),
            data: { "bootstrap.js": script },
        }, { parent: this });

        // Written by the Job, never by Pulumi after creation: the link must survive `pulumi up`.
        const recovery = new k8s.core.v1.Secret(`${name}-recovery`, {
            metadata: meta(RECOVERY_SECRET_NAME),
            type: "Opaque",
            stringData: { status: "pending" },
        }, { parent: this, ignoreChanges: ["data", "stringData"] });
        this.recoverySecretName = recovery.metadata.name;

        const account = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: meta("first-employee-bootstrap") }, { parent: this });
        const role = new k8s.rbac.v1.Role(`${name}-role`, {
            metadata: meta("first-employee-bootstrap"),
            // Only this one Secret, only read (a stored link still valid is kept) and patch.
            rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [RECOVERY_SECRET_NAME], verbs: ["get", "patch"] }],
        }, { parent: this });
        const binding = new k8s.rbac.v1.RoleBinding(`${name}-binding`, {
            metadata: meta("first-employee-bootstrap"),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: args.namespace }],
        }, { parent: this });

        const digest = crypto.createHash("sha256").update(script).update(args.email).digest("hex");
        new k8s.batch.v1.Job(`${name}-job`, {
            metadata: meta("first-employee-bootstrap"),
            spec: {
                backoffLimit: 4,
                // The Job's bound in place of probes: a hung run fails instead of blocking `pulumi up`.
                activeDeadlineSeconds: 600,
                template: {
                    metadata: { labels: { ...labels, ...this.podLabels }, annotations: { "checksum/bootstrap": digest } },
                    spec: {
                        restartPolicy: "Never",
                        // Kratos admin's address comes from the Service variables: the pod has no DNS (bank-network-policies.ts).
                        enableServiceLinks: true,
                        serviceAccountName: account.metadata.name,
                        securityContext: restrictedPodSecurity(NODE_UID),
                        containers: [{
                            name: "bootstrap",
                            image: args.image,
                            command: ["node", "/opt/bootstrap/bootstrap.js"],
                            env: [
                                { name: "KRATOS_ADMIN_SERVICE", value: args.kratosAdminService },
                                { name: "EMPLOYEE_EMAIL", value: args.email },
                                { name: "RECOVERY_SECRET_NAME", value: recovery.metadata.name },
                                { name: "RECOVERY_EXPIRES_IN", value: expiresIn },
                                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                            ],
                            volumeMounts: [{ name: "script", mountPath: "/opt/bootstrap", readOnly: true }],
                            securityContext: RESTRICTED_CONTAINER,
                            resources: resources("50m", "96Mi", "250m"),
                        }],
                        volumes: [{ name: "script", configMap: { name: scriptMap.metadata.name } }],
                    },
                },
            },
        }, { parent: this, dependsOn: [binding, ...args.kratosReady], deleteBeforeReplace: true });

        this.registerOutputs({ recoverySecretName: this.recoverySecretName });
    }
}
