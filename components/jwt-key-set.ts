import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { JwtSigningKey, PublicJwk } from "./jwt-signing-key";

/** RFC 7517 section 5 JSON Web Key Set. */
export interface Jwks {
    keys: PublicJwk[];
}

/** Where DCM's signer runs: the private key goes there, readable by its service account alone. */
export interface SignerPlacement {
    /** The signer's namespace (platform config signerNamespace), not the bank's. */
    namespace: string;
    /** The signer's service account in that namespace (platform config signerServiceAccount). */
    serviceAccount: string;
    /** Name of the Secret, unique per bank in the shared namespace (the domain's deriveNames: `jwt-signing-key-<alias>-<environment>`). */
    secretName: string;
}

export interface JwtKeySetArgs {
    /** Namespace of the JWKS ConfigMap (the bank's). */
    namespace: pulumi.Input<string>;
    /** Labels for every object. */
    labels: Record<string, string>;
    /** Every key to publish: one, or two while rotating. */
    keys: JwtSigningKey[];
    /** The key DCM signs with now; must be one of `keys`. */
    active: JwtSigningKey;
    /** Where the active private key is delivered. */
    signer: SignerPlacement;
}

/**
 * Distributes the signing keys: the JWKS document (all keys, so banks accept both during a rotation) in a
 * ConfigMap for the api host, and the active private key in a Secret in DCM's signer namespace with a Role
 * and RoleBinding that let the signer's service account, and no one else this stack names, read that one
 * Secret. Nothing in the bank's namespace holds the private key: a foothold there cannot sign for the bank.
 */
export class JwtKeySet extends pulumi.ComponentResource {
    /** The JWKS document. */
    public readonly jwks: pulumi.Output<Jwks>;
    /** Name of the ConfigMap holding `jwks.json`. */
    public readonly configMapName: pulumi.Output<string>;
    /** Name of the Secret holding the active private key (in `signerNamespace`). */
    public readonly signerSecretName: pulumi.Output<string>;
    /** Namespace of that Secret. */
    public readonly signerNamespace: string;

    constructor(name: string, args: JwtKeySetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:JwtKeySet", name, {}, opts);
        if (!args.keys.includes(args.active)) {
            throw new pulumi.ResourceError(`JwtKeySet ${name}: the active key is not among the published keys`, this);
        }
        this.jwks = pulumi.all(args.keys.map((k) => k.publicJwk)).apply((keys) => ({ keys }));

        const jwksMap = new k8s.core.v1.ConfigMap(`${name}-jwks`, {
            metadata: { name: "jwks", namespace: args.namespace, labels: args.labels },
            data: { "jwks.json": this.jwks.apply((doc) => JSON.stringify(doc, null, 2)) },
        }, { parent: this });
        this.configMapName = jwksMap.metadata.name;

        const { signer: placement } = args;
        this.signerNamespace = placement.namespace;
        const signer = new k8s.core.v1.Secret(`${name}-signer`, {
            metadata: { name: placement.secretName, namespace: placement.namespace, labels: args.labels },
            type: "Opaque",
            stringData: {
                "private-key.pem": args.active.privateKeyPem,
                kid: args.active.kid,
                alg: args.active.algorithm,
            },
        }, { parent: this, protect: true });
        this.signerSecretName = signer.metadata.name;

        // Read only, this one Secret only: no list or watch (which would show every bank's key in the namespace).
        const reader = new k8s.rbac.v1.Role(`${name}-signer-reader`, {
            metadata: { name: `${placement.secretName}-reader`, namespace: placement.namespace, labels: args.labels },
            rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [placement.secretName], verbs: ["get"] }],
        }, { parent: this });
        new k8s.rbac.v1.RoleBinding(`${name}-signer-reader`, {
            metadata: { name: `${placement.secretName}-reader`, namespace: placement.namespace, labels: args.labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: reader.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: placement.serviceAccount, namespace: placement.namespace }],
        }, { parent: this });

        this.registerOutputs({ jwks: this.jwks, configMapName: this.configMapName, signerSecretName: this.signerSecretName });
    }
}
