import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type Selector = Record<string, string>;
type Rule = k8s.types.input.networking.v1.NetworkPolicySpec;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** An egress allowance to addresses outside the cluster: which pods, to which CIDRs, on which ports. */
export interface ExternalEgress {
    /** Pod labels of the clients; `dcm/role` may be a list (matched with `In`). */
    pods: { matchLabels: Selector; roles: string[] };
    /** Destination addresses (CIDRs, validated to be at most /24 wide). */
    cidrs: string[];
    /** TCP ports. */
    ports: number[];
}

export interface BankNetworkPoliciesArgs {
    /** Namespace of the policies (its default-deny policy stays: these only admit). */
    namespace: pulumi.Input<string>;
    /** Bank labels; the component adds name and component labels. */
    labels: Record<string, string>;
    /** Namespace of the ingress controller. */
    ingressNamespace: string;
    /** Pod labels of each workload; `bootstrap` holds the label only the first-employee Job's pods carry. */
    pods: { frontend: Selector; jwksServer: Selector; kratosServer: Selector; bootstrap: Selector };
    /** Ports: the frontend's and JWKS server's container port, Kratos public and admin. */
    ports: { frontend: number; jwksServer: number; kratosPublic: number; kratosAdmin: number };
    /** Kratos' database clients (server, courier, migrations) to the database server; absent in dev mode. */
    kratosDatabase?: ExternalEgress;
    /** The Kratos courier to the mail server; absent in dev mode. */
    kratosSmtp?: ExternalEgress;
    /** The API server's endpoint addresses (/32, /128): the bootstrap Job writes its Secret there. */
    apiServerCidrs: string[];
}

/** Ports of the API server: 443 through the `kubernetes` Service, 6443 at its endpoints (after kube-proxy's DNAT). */
export const API_SERVER_PORTS = [443, 6443];

/**
 * What may flow in a bank's namespace on top of its default deny: the ingress controller to the frontend,
 * the JWKS server and Kratos public; Kratos admin from the first-employee Job only; Kratos to its database and
 * mail server by address; the bootstrap Job to Kratos admin and the API server's endpoints. DNS only for
 * the pods that resolve names (Kratos' database and mail clients: their DSN and SMTP URI name hosts): DNS
 * is a channel out of the cluster (a query for <data>.attacker.example reaches the attacker's name server),
 * so the frontend, the JWKS server and the bootstrap Job (which holds the recovery link, and reaches Kratos
 * admin and the API server by the addresses Kubernetes gives it) get none.
 * No rule is open: every ingress rule names its sources, every egress rule its destinations.
 */
export class BankNetworkPolicies extends pulumi.ComponentResource {
    constructor(name: string, args: BankNetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:BankNetworkPolicies", name, {}, opts);
        if (args.apiServerCidrs.length === 0) throw new pulumi.ResourceError(`BankNetworkPolicies ${name}: apiServerCidrs is empty`, this);
        const labels = { ...args.labels, "app.kubernetes.io/name": "network-policies", "app.kubernetes.io/component": "network" };
        const policy = (policyName: string, spec: Rule) => new k8s.networking.v1.NetworkPolicy(`${name}-${policyName}`, {
            metadata: { name: policyName, namespace: args.namespace, labels },
            spec,
        }, { parent: this });
        const fromIngress = [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.ingressNamespace } } }];
        const tcp = (port: number) => ({ protocol: "TCP", port });
        const toAddresses = (cidrs: string[]): Peer[] => cidrs.map((cidr) => ({ ipBlock: { cidr } }));
        // The cluster's DNS, for a client whose server is named by host (a DSN, an SMTP URI).
        const dns = {
            to: [{
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            }],
            ports: [{ protocol: "UDP", port: 53 }, tcp(53)],
        };
        const external = (policyName: string, egress: ExternalEgress) => policy(policyName, {
            podSelector: {
                matchLabels: egress.pods.matchLabels,
                matchExpressions: [{ key: "dcm/role", operator: "In", values: egress.pods.roles }],
            },
            policyTypes: ["Egress"],
            egress: [{ to: toAddresses(egress.cidrs), ports: egress.ports.map(tcp) }, dns],
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
        policy("kratos-admin-from-bootstrap", {
            podSelector: { matchLabels: args.pods.kratosServer },
            policyTypes: ["Ingress"],
            // The admin API creates identities and recovery codes: only the first-employee Job's pods, never the
            // rest of the namespace (a compromised frontend or JWKS pod must not reach it).
            ingress: [{ from: [{ podSelector: { matchLabels: args.pods.bootstrap } }], ports: [tcp(args.ports.kratosAdmin)] }],
        });
        if (args.kratosDatabase) external("kratos-database-egress", args.kratosDatabase);
        if (args.kratosSmtp) external("kratos-smtp-egress", args.kratosSmtp);
        policy("first-employee-bootstrap-egress", {
            podSelector: { matchLabels: args.pods.bootstrap },
            policyTypes: ["Egress"],
            egress: [
                { to: [{ podSelector: { matchLabels: args.pods.kratosServer } }], ports: [tcp(args.ports.kratosAdmin)] },
                // The pod holds the recovery link: the API server's own addresses only, never the internet, and no DNS
                // (Kratos admin by its Service's address from the Service environment variables, the API server by KUBERNETES_SERVICE_HOST).
                { to: toAddresses(args.apiServerCidrs), ports: API_SERVER_PORTS.map(tcp) },
            ],
        });

        this.registerOutputs({});
    }
}
