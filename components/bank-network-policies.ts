import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type Selector = Record<string, string>;
type Rule = k8s.types.input.networking.v1.NetworkPolicySpec;

export interface BankNetworkPoliciesArgs {
    /** Namespace of the policies (its default-deny policy stays: these only admit). */
    namespace: pulumi.Input<string>;
    /** Bank labels; the component adds name and component labels. */
    labels: Record<string, string>;
    /** Namespace of the ingress controller. */
    ingressNamespace: string;
    /** Pod labels of each workload. */
    pods: { frontend: Selector; jwksServer: Selector; kratosServer: Selector; kratos: Selector; bootstrap: Selector };
    /** Ports: the frontend's and JWKS server's container port, Kratos public and admin. */
    ports: { frontend: number; jwksServer: number; kratosPublic: number; kratosAdmin: number };
    /** TCP ports Kratos may reach outside the cluster (database, SMTP); empty in dev mode. */
    kratosEgressPorts: number[];
    /** CIDR of the Kubernetes API server (the bootstrap Job writes its Secret there). */
    apiServerCidr: string;
}

/**
 * What may flow in a bank's namespace on top of its default deny: the ingress controller to the frontend,
 * the JWKS server and Kratos public; Kratos admin from the namespace only; Kratos to its database and SMTP;
 * the bootstrap Job to Kratos admin and the API server; DNS for every pod.
 */
export class BankNetworkPolicies extends pulumi.ComponentResource {
    constructor(name: string, args: BankNetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:BankNetworkPolicies", name, {}, opts);
        const labels = { ...args.labels, "app.kubernetes.io/name": "network-policies", "app.kubernetes.io/component": "network" };
        const policy = (policyName: string, spec: Rule) => new k8s.networking.v1.NetworkPolicy(`${name}-${policyName}`, {
            metadata: { name: policyName, namespace: args.namespace, labels },
            spec,
        }, { parent: this });
        const fromIngress = [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.ingressNamespace } } }];
        const tcp = (port: number) => ({ protocol: "TCP", port });

        policy("allow-dns", {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [{
                to: [{
                    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                    podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                }],
                ports: [{ protocol: "UDP", port: 53 }, tcp(53)],
            }],
        });
        policy("frontend-from-ingress", {
            podSelector: { matchLabels: args.pods.frontend },
            policyTypes: ["Ingress"],
            ingress: [{ from: fromIngress, ports: [tcp(args.ports.frontend)] }],
        });
        policy("jwks-server-from-ingress", {
            podSelector: { matchLabels: args.pods.jwksServer },
            policyTypes: ["Ingress"],
            ingress: [{ from: fromIngress, ports: [tcp(args.ports.jwksServer)] }],
        });
        policy("kratos-public-from-ingress", {
            podSelector: { matchLabels: args.pods.kratosServer },
            policyTypes: ["Ingress"],
            ingress: [{ from: fromIngress, ports: [tcp(args.ports.kratosPublic)] }],
        });
        policy("kratos-admin-from-namespace", {
            podSelector: { matchLabels: args.pods.kratosServer },
            policyTypes: ["Ingress"],
            // An empty podSelector alone means "this namespace's pods": never another namespace, never the ingress.
            ingress: [{ from: [{ podSelector: {} }], ports: [tcp(args.ports.kratosAdmin)] }],
        });
        if (args.kratosEgressPorts.length > 0) {
            policy("kratos-egress", {
                podSelector: { matchLabels: args.pods.kratos },
                policyTypes: ["Egress"],
                // The database and mail hosts live in the DSN and SMTP URI (secrets): admitted by port only.
                egress: [{ ports: args.kratosEgressPorts.map(tcp) }],
            });
        }
        policy("first-employee-bootstrap-egress", {
            podSelector: { matchLabels: args.pods.bootstrap },
            policyTypes: ["Egress"],
            egress: [
                { to: [{ podSelector: { matchLabels: args.pods.kratosServer } }], ports: [tcp(args.ports.kratosAdmin)] },
                { to: [{ ipBlock: { cidr: args.apiServerCidr } }], ports: [tcp(443), tcp(6443)] },
            ],
        });

        this.registerOutputs({});
    }
}
