import * as crypto from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
    COURIER_METRICS_PORT, DEV_MODE_DSN, DEV_MODE_SMTP_URI, employeeIdentitySchema, IDENTITY_SCHEMA_FILE, KRATOS_ADMIN_PORT,
    KRATOS_CONFIG_DIR, KRATOS_CONFIG_FILE, KRATOS_PUBLIC_PORT, KRATOS_SECRET_ENV, KratosSecretKey, kratosPublicUrl, kratosYaml,
} from "./kratos-config";
import { parseImageReference } from "../domain/images";
import { KRATOS_MIGRATE_UP, KRATOS_MIGRATIONS_ROLE, KratosMigrations } from "./kratos-migrations";
import { hardenedWorkload, httpProbe, resources, RESTRICTED_CONTAINER } from "./workload";

/** uid of the `ory` user in the oryd/kratos image. */
const KRATOS_UID = 10000;

export interface KratosArgs {
    /** Namespace of every object. */
    namespace: pulumi.Input<string>;
    /** Bank labels; the component adds name and component labels. */
    labels: Record<string, string>;
    /** Pinned oryd/kratos image. */
    image: string;
    /** The bank's backoffice host; Kratos' public API lives under its `/.ory` path. */
    backofficeHost: string;
    /** Sender of recovery emails, e.g. `no-reply@<base domain>`. */
    fromAddress: string;
    /** Sender name of recovery emails (the bank's display name). */
    fromName: string;
    /** Dev mode: in-pod SQLite, one replica, courier inside the server; no secret config. Default false. */
    devMode?: boolean;
    /**
     * Secrets, required unless devMode: the server's PostgreSQL DSN (a role without DDL rights), the courier's
     * SMTP URI, and the migrations Job's DSN (a role with DDL rights, seen by that Job only).
     */
    secrets?: { dsn: pulumi.Input<string>; smtpUri: pulumi.Input<string>; migrationDsn: pulumi.Input<string> };
    /** Server replicas outside dev mode; default 2. */
    replicas?: number;
}

/**
 * Ory Kratos for the bank's employees, modelled on Ory's Helm chart: config and identity schema, generated
 * secrets, migrations as their own Job with their own DSN (an init container in dev mode), the server (public 4433, admin 4434), a courier,
 * and ClusterIP Services. The admin Service has no route from outside; its NetworkPolicy admits the first-employee Job only.
 */
export class Kratos extends pulumi.ComponentResource {
    /** Public URL `https://<backoffice host>/.ory`. */
    public readonly publicUrl: string;
    /** Name of the public Service (port 4433). */
    public readonly publicServiceName: pulumi.Output<string>;
    /** Name of the admin Service (port 4434), namespace-internal. */
    public readonly adminServiceName: pulumi.Output<string>;
    /** In-cluster admin URL, for the first-employee bootstrap. */
    public readonly adminUrl: pulumi.Output<string>;
    /** Pod labels of the Kratos server (for NetworkPolicies). */
    public readonly serverPodLabels: Record<string, string>;
    /** Pods that talk to the database: common labels plus their `dcm/role`s (server, courier, migrations); none in dev mode. */
    public readonly databaseClients: { matchLabels: Record<string, string>; roles: string[] };
    /** Pods that talk to the mail server: the courier; none in dev mode. */
    public readonly smtpClients: { matchLabels: Record<string, string>; roles: string[] };
    /** The server Deployment: ready means migrations ran and the admin API answers. */
    public readonly deployment: k8s.apps.v1.Deployment;

    constructor(name: string, args: KratosArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:Kratos", name, {}, opts);
        const devMode = args.devMode ?? false;
        if (!devMode && !args.secrets) throw new pulumi.ResourceError(`Kratos ${name}: secrets (dsn, smtpUri) are required unless devMode`, this);
        const replicas = devMode ? 1 : args.replicas ?? 2;
        const labels = { ...args.labels, "app.kubernetes.io/name": "kratos", "app.kubernetes.io/component": "identity" };
        const meta = (objectName: string, extra: Record<string, string> = {}) =>
            ({ name: objectName, namespace: args.namespace, labels: { ...labels, ...extra } });
        this.publicUrl = kratosPublicUrl(args.backofficeHost);
        this.serverPodLabels = { "app.kubernetes.io/name": "kratos", "dcm/role": "kratos-server" };
        const kratosPods = { "app.kubernetes.io/name": "kratos" };
        this.databaseClients = { matchLabels: kratosPods, roles: devMode ? [] : ["kratos-server", "kratos-courier", KRATOS_MIGRATIONS_ROLE] };
        this.smtpClients = { matchLabels: kratosPods, roles: devMode ? [] : ["kratos-courier"] };

        const adminBaseUrl = pulumi.interpolate`http://kratos-admin.${args.namespace}.svc.cluster.local:${KRATOS_ADMIN_PORT}/`;
        const configYaml = adminBaseUrl.apply((adminUrl) => kratosYaml({
            backofficeHost: args.backofficeHost, adminBaseUrl: adminUrl, fromAddress: args.fromAddress, fromName: args.fromName,
            // The config is written for the release the image runs (validated as name:tag@sha256:..., so it has a tag).
            version: parseImageReference(args.image).tag ?? "",
        }));
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, {
            metadata: meta("kratos-config"),
            data: {
                "kratos.yml": configYaml,
                [IDENTITY_SCHEMA_FILE]: JSON.stringify(employeeIdentitySchema(), null, 2),
            },
        }, { parent: this });

        // Alphanumeric: Kratos splits list values from the environment at commas.
        const password = (suffix: string, length: number, protect = false) => new random.RandomPassword(`${name}-${suffix}`, {
            length, special: false, minLower: 4, minUpper: 4, minNumeric: 4,
        }, { parent: this, protect }).result;
        const secretValues: Record<KratosSecretKey, pulumi.Input<string>> = {
            dsn: devMode ? DEV_MODE_DSN : args.secrets!.dsn,
            smtpConnectionUri: devMode ? DEV_MODE_SMTP_URI : args.secrets!.smtpUri,
            secretsDefault: password("secret-default", 48),
            secretsCookie: password("secret-cookie", 48),
            // Exactly 32 (XChaCha20-Poly1305 key); replacing it makes stored ciphertexts unreadable: protected.
            secretsCipher: password("secret-cipher", 32, true),
            // Page tokens of the admin lists; replacing it only invalidates tokens in flight.
            secretsPagination: password("secret-pagination", 48),
        };
        // Outside dev mode the schema is migrated by its own Job with its own DSN; in dev mode the SQLite file
        // lives in the server pod's emptyDir, so an init container of that pod migrates it.
        const migrations = devMode ? undefined : new KratosMigrations(`${name}-migrations`, {
            namespace: args.namespace, labels, image: args.image, dsn: args.secrets!.migrationDsn,
        }, { parent: this });

        const secret = new k8s.core.v1.Secret(`${name}-secrets`, {
            metadata: meta("kratos"),
            type: "Opaque",
            stringData: secretValues,
        }, { parent: this });

        const env = (Object.keys(KRATOS_SECRET_ENV) as KratosSecretKey[]).map((key) => ({
            name: KRATOS_SECRET_ENV[key],
            valueFrom: { secretKeyRef: { name: secret.metadata.name, key } },
        }));
        const configVolume = { name: "kratos-config", configMap: { name: config.metadata.name } };
        const mounts = [
            { name: "kratos-config", mountPath: KRATOS_CONFIG_DIR, readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
            ...(devMode ? [{ name: "sqlite", mountPath: "/var/lib/sqlite" }] : []),
        ];
        const volumes = [
            configVolume,
            { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            ...(devMode ? [{ name: "sqlite", emptyDir: { sizeLimit: "256Mi" } }] : []),
        ];
        // A changed config must restart the pods (Kratos reads it at start); the checksum is of plain text only.
        const checksum = configYaml.apply((text) => crypto.createHash("sha256").update(text).digest("hex"));

        const serverLabels = { ...labels, ...this.serverPodLabels };
        // No usage reports to Ory: a bank's identity server phones nowhere (its egress is closed anyway).
        const serve = ["serve", "all", "--config", KRATOS_CONFIG_FILE, "--sqa-opt-out", ...(devMode ? ["--watch-courier"] : [])];
        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, {
            metadata: meta("kratos"),
            // Kratos never calls the Kubernetes API.
            automountServiceAccountToken: false,
        }, { parent: this });

        const checksumAnnotation = { "checksum/config": checksum };
        const server = hardenedWorkload({
            owner: this,
            ownerName: `Kratos ${name}`,
            deploymentName: `${name}-server`,
            metadata: meta("kratos", { "dcm/role": "kratos-server" }),
            replicas,
            podLabels: this.serverPodLabels,
            templateLabels: serverLabels,
            annotations: checksumAnnotation,
            uid: KRATOS_UID,
            serviceAccountName: serviceAccount.metadata.name,
            initContainers: devMode ? [{
                name: "kratos-migrate",
                image: args.image,
                args: [...KRATOS_MIGRATE_UP, "-e", "--yes", "--config", KRATOS_CONFIG_FILE],
                env,
                volumeMounts: mounts,
                securityContext: RESTRICTED_CONTAINER,
                resources: resources("50m", "128Mi", "500m"),
            }] : [],
            containers: [{
                name: "kratos",
                image: args.image,
                args: serve,
                env,
                ports: [
                    { name: "http-public", containerPort: KRATOS_PUBLIC_PORT, protocol: "TCP" },
                    { name: "http-admin", containerPort: KRATOS_ADMIN_PORT, protocol: "TCP" },
                ],
                volumeMounts: mounts,
                securityContext: RESTRICTED_CONTAINER,
                resources: resources("100m", "256Mi", "1"),
                startupProbe: httpProbe("/admin/health/alive", "http-admin", 2, 60),
                livenessProbe: httpProbe("/admin/health/alive", "http-admin", 10, 5),
                readinessProbe: httpProbe("/admin/health/ready", "http-admin", 10, 5),
            }],
            volumes,
            // SQLite on an emptyDir cannot be shared by two pods.
            recreate: devMode,
            // Dev mode runs one pod on its own SQLite file: no budget to keep.
            disruptionBudget: devMode ? undefined : { name: `${name}-pdb`, metadata: meta("kratos"), maxUnavailable: 1 },
            services: [
                { name: `${name}-public`, metadata: meta("kratos-public"), ports: [{ name: "http-public", port: KRATOS_PUBLIC_PORT }] },
                { name: `${name}-admin`, metadata: meta("kratos-admin"), ports: [{ name: "http-admin", port: KRATOS_ADMIN_PORT }] },
            ],
            // The server starts on a migrated schema: the Job completes first.
            dependsOn: migrations ? [migrations.job] : [],
        });
        this.deployment = server.deployment;
        [this.publicServiceName, this.adminServiceName] = server.serviceNames;

        if (!devMode) {
            // One courier for all replicas (Ory: with several servers the courier runs as a singleton).
            const courierLabels = { "app.kubernetes.io/name": "kratos", "dcm/role": "kratos-courier" };
            hardenedWorkload({
                owner: this,
                ownerName: `Kratos ${name}`,
                deploymentName: `${name}-courier`,
                metadata: meta("kratos-courier", { "dcm/role": "kratos-courier" }),
                replicas: 1,
                podLabels: courierLabels,
                templateLabels: { ...labels, ...courierLabels },
                annotations: checksumAnnotation,
                uid: KRATOS_UID,
                serviceAccountName: serviceAccount.metadata.name,
                containers: [{
                    name: "kratos-courier",
                    image: args.image,
                    args: ["courier", "watch", "--config", KRATOS_CONFIG_FILE, "--expose-metrics-port", String(COURIER_METRICS_PORT)],
                    env,
                    ports: [{ name: "http-metrics", containerPort: COURIER_METRICS_PORT, protocol: "TCP" }],
                    volumeMounts: mounts,
                    securityContext: RESTRICTED_CONTAINER,
                    resources: resources("25m", "128Mi", "250m"),
                    livenessProbe: httpProbe("/metrics/prometheus", "http-metrics", 20, 3),
                    readinessProbe: httpProbe("/metrics/prometheus", "http-metrics", 10, 3),
                }],
                volumes,
                recreate: true,
            });
        }

        this.adminUrl = adminBaseUrl;

        this.registerOutputs({ publicUrl: this.publicUrl, publicServiceName: this.publicServiceName, adminServiceName: this.adminServiceName, adminUrl: this.adminUrl });
    }
}
