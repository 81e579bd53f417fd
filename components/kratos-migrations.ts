import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { resources, RESTRICTED_CONTAINER, restrictedPodSecurity } from "./workload";

/** uid of the `ory` user in the oryd/kratos image. */
const KRATOS_UID = 10000;
/** Kratos' command that applies the pending SQL migrations (`migrate sql` alone is deprecated since v25). */
export const KRATOS_MIGRATE_UP = ["migrate", "sql", "up"] as const;
/** `dcm/role` of the migrations Job's pods (the database NetworkPolicy admits it). */
export const KRATOS_MIGRATIONS_ROLE = "kratos-migrations";

export interface KratosMigrationsArgs {
    /** Namespace of every object. */
    namespace: pulumi.Input<string>;
    /** Kratos' labels (bank labels plus name and component); the pods add `dcm/role: kratos-migrations`. */
    labels: Record<string, string>;
    /** Pinned oryd/kratos image, the same as the server's (migrations belong to the version). */
    image: string;
    /** Secret: PostgreSQL DSN of a role with DDL rights (kratosMigrationDsn); only this Job sees it. */
    dsn: pulumi.Input<string>;
}

/**
 * Kratos' SQL migrations as their own Job, as Ory's Helm chart runs them (`autoMigrate` with a Job): with
 * their own DSN, whose role may change the schema, in their own Secret, mounted by nothing else. The server
 * and courier get a DSN without DDL rights, so a compromised server cannot alter or drop the schema. A new
 * image changes the pod template, so Pulumi replaces the Job and the migrations of the new version run.
 */
export class KratosMigrations extends pulumi.ComponentResource {
    /** The Job: complete means the schema is at the image's version. */
    public readonly job: k8s.batch.v1.Job;
    /** Pod labels of the Job (for NetworkPolicies). */
    public readonly podLabels: Record<string, string>;

    constructor(name: string, args: KratosMigrationsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:KratosMigrations", name, {}, opts);
        const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels: args.labels });
        this.podLabels = { "app.kubernetes.io/name": "kratos", "dcm/role": KRATOS_MIGRATIONS_ROLE };

        const secret = new k8s.core.v1.Secret(`${name}-dsn`, {
            metadata: meta("kratos-migrations"),
            type: "Opaque",
            stringData: { dsn: args.dsn },
        }, { parent: this });
        const account = new k8s.core.v1.ServiceAccount(`${name}-sa`, {
            metadata: meta("kratos-migrations"),
            // The Job never calls the Kubernetes API.
            automountServiceAccountToken: false,
        }, { parent: this });

        this.job = new k8s.batch.v1.Job(`${name}-job`, {
            metadata: meta("kratos-migrations"),
            spec: {
                backoffLimit: 6,
                // The Job's bound in place of probes: a hung migration fails instead of blocking `pulumi up`.
                activeDeadlineSeconds: 900,
                template: {
                    metadata: { labels: { ...args.labels, ...this.podLabels } },
                    spec: {
                        restartPolicy: "Never",
                        serviceAccountName: account.metadata.name,
                        automountServiceAccountToken: false,
                        securityContext: restrictedPodSecurity(KRATOS_UID),
                        containers: [{
                            name: "kratos-migrate",
                            image: args.image,
                            // `-e` reads the DSN from the environment; no config file: the Job needs nothing else.
                            args: [...KRATOS_MIGRATE_UP, "-e", "--yes"],
                            env: [{ name: "DSN", valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "dsn" } } }],
                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                            securityContext: RESTRICTED_CONTAINER,
                            resources: resources("50m", "128Mi", "500m"),
                        }],
                        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
                    },
                },
            },
        }, { parent: this, deleteBeforeReplace: true });

        this.registerOutputs({});
    }
}
