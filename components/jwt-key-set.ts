import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { JwtSigningKey, PublicJwk } from "./jwt-signing-key";

/** RFC 7517 section 5 JSON Web Key Set. */
export interface Jwks {
    keys: PublicJwk[];
}

export interface JwtKeySetArgs {
    /** Namespace of the signer Secret and the JWKS ConfigMap. */
    namespace: pulumi.Input<string>;
    /** Labels for both objects. */
    labels: Record<string, string>;
    /** Every key to publish: one, or two while rotating. */
    keys: JwtSigningKey[];
    /** The key DCM signs with now; must be one of `keys`. */
    active: JwtSigningKey;
}

/**
 * Distributes the signing keys: the JWKS document (all keys, so banks accept both during a rotation)
 * in a ConfigMap for the api host, and the active private key in the Secret DCM's signer mounts.
 */
export class JwtKeySet extends pulumi.ComponentResource {
    /** The JWKS document. */
    public readonly jwks: pulumi.Output<Jwks>;
    /** Name of the ConfigMap holding `jwks.json`. */
    public readonly configMapName: pulumi.Output<string>;
    /** Name of the Secret holding the active private key. */
    public readonly signerSecretName: pulumi.Output<string>;

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

        const signer = new k8s.core.v1.Secret(`${name}-signer`, {
            metadata: { name: "jwt-signing-key", namespace: args.namespace, labels: args.labels },
            type: "Opaque",
            stringData: {
                "private-key.pem": args.active.privateKeyPem,
                kid: args.active.kid,
                alg: args.active.algorithm,
            },
        }, { parent: this, protect: true });
        this.signerSecretName = signer.metadata.name;

        this.registerOutputs({ jwks: this.jwks, configMapName: this.configMapName, signerSecretName: this.signerSecretName });
    }
}
