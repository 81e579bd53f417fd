import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { hardenedWorkload, httpProbe, resources, RESTRICTED_CONTAINER } from "./workload";

/** Port of nginx-unprivileged. */
export const JWKS_SERVER_PORT = 8080;
/** Where the JWKS document is served (RFC 8615 well-known URI). */
export const JWKS_PATH = "/.well-known/jwks.json";
/** uid of the nginx user in nginxinc/nginx-unprivileged. */
const NGINX_UID = 101;

/** nginx server block: the JWKS document, a health endpoint, nothing else. */
export function jwksNginxConf(): string {
    return [
        "server {",
        `    listen ${JWKS_SERVER_PORT};`,
        "    server_tokens off;",
        `    location = ${JWKS_PATH} {`,
        // Exactly application/json, whatever mime.types says: JWKS clients expect it.
        "        types { }",
        "        default_type application/json;",
        "        alias /usr/share/jwks/jwks.json;",
        "        add_header Cache-Control \"public, max-age=300\";",
        "        add_header Access-Control-Allow-Origin \"*\";",
        "    }",
        "    location = /healthz { access_log off; default_type text/plain; return 200 \"ok\\n\"; }",
        "    location / { return 404; }",
        "}",
        "",
    ].join("\n");
}

export interface JwksServerArgs {
    /** Namespace of every object. */
    namespace: pulumi.Input<string>;
    /** Bank labels; the component adds name and component labels. */
    labels: Record<string, string>;
    /** Pinned nginx-unprivileged image. */
    image: string;
    /** Name of the ConfigMap holding `jwks.json` (JwtKeySet). */
    jwksConfigMapName: pulumi.Input<string>;
    /** Replicas; default 2. */
    replicas?: number;
}

/** A small unprivileged static server publishing the bank's JWKS on the api host (plan step 2). */
export class JwksServer extends pulumi.ComponentResource {
    /** Name of the Service (port 80). */
    public readonly serviceName: pulumi.Output<string>;
    /** Pod labels (for NetworkPolicies). */
    public readonly podLabels: Record<string, string>;

    constructor(name: string, args: JwksServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:JwksServer", name, {}, opts);
        const replicas = args.replicas ?? 2;
        const labels = { ...args.labels, "app.kubernetes.io/name": "jwks-server", "app.kubernetes.io/component": "jwks" };
        const meta = { name: "jwks-server", namespace: args.namespace, labels };
        this.podLabels = { "app.kubernetes.io/name": "jwks-server", "dcm/role": "jwks-server" };

        const conf = new k8s.core.v1.ConfigMap(`${name}-nginx`, {
            metadata: { ...meta, name: "jwks-server-nginx" },
            data: { "default.conf": jwksNginxConf() },
        }, { parent: this });

        const workload = hardenedWorkload({
            owner: this,
            ownerName: `JwksServer ${name}`,
            deploymentName: `${name}-deployment`,
            metadata: meta,
            replicas,
            podLabels: this.podLabels,
            templateLabels: { ...labels, ...this.podLabels },
            uid: NGINX_UID,
            containers: [{
                name: "nginx",
                image: args.image,
                ports: [{ name: "http", containerPort: JWKS_SERVER_PORT, protocol: "TCP" }],
                volumeMounts: [
                    { name: "jwks", mountPath: "/usr/share/jwks", readOnly: true },
                    { name: "conf", mountPath: "/etc/nginx/conf.d", readOnly: true },
                    // nginx-unprivileged keeps its pid and temp files in /tmp.
                    { name: "tmp", mountPath: "/tmp" },
                ],
                securityContext: RESTRICTED_CONTAINER,
                resources: resources("10m", "32Mi", "100m"),
                livenessProbe: httpProbe("/healthz", "http", 10, 3),
                readinessProbe: httpProbe(JWKS_PATH, "http", 5, 3),
            }],
            volumes: [
                { name: "jwks", configMap: { name: args.jwksConfigMapName } },
                { name: "conf", configMap: { name: conf.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
            ],
            disruptionBudget: replicas > 1 ? { name: `${name}-pdb`, metadata: meta, minAvailable: 1 } : undefined,
            services: [{ name: `${name}-service`, metadata: meta, ports: [{ name: "http", port: 80 }] }],
        });
        this.serviceName = workload.serviceNames[0];

        this.registerOutputs({ serviceName: this.serviceName });
    }
}
