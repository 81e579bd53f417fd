import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import * as jose from "jose";
import { MIN_RSA_BITS, SIGNING_KEYS, SigningAlgorithm } from "../domain/signing";

/** JWS algorithms (the domain's list, with the key each needs). */
export type JwsAlgorithm = SigningAlgorithm;

/** A public key as published: RFC 7517 JWK with `kid` (RFC 7638 thumbprint), `alg` and `use`. */
export interface PublicJwk extends jose.JWK {
    kid: string;
    alg: JwsAlgorithm;
    use: "sig";
}

export interface JwtSigningKeyArgs {
    /** JWS algorithm; ES256 (ECDSA P-256) by default. */
    algorithm?: JwsAlgorithm;
    /** RSA modulus length for RS256/PS256; default MIN_RSA_BITS (3072), the smallest accepted. */
    rsaBits?: number;
    /** Guard the key against deletion and replacement; default true. See README "Rotating the signing key". */
    protect?: boolean;
}

/**
 * One keypair DCM signs JWTs with (plan step 2). The private key stays in state as a secret;
 * the public key is published as PEM and as a JWK whose kid is its RFC 7638 thumbprint.
 */
export class JwtSigningKey extends pulumi.ComponentResource {
    /** The JWS algorithm. */
    public readonly algorithm: JwsAlgorithm;
    /** PKCS#8 PEM of the private key; a secret. */
    public readonly privateKeyPem: pulumi.Output<string>;
    /** SPKI PEM of the public key. */
    public readonly publicKeyPem: pulumi.Output<string>;
    /** The public key as a JWK, with kid, alg and use. */
    public readonly publicJwk: pulumi.Output<PublicJwk>;
    /** RFC 7638 SHA-256 thumbprint of the public key, base64url. */
    public readonly kid: pulumi.Output<string>;

    constructor(name: string, args: JwtSigningKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:JwtSigningKey", name, {}, opts);
        this.algorithm = args.algorithm ?? "ES256";
        const kind = SIGNING_KEYS[this.algorithm];
        const curve = kind.type === "ec" ? kind.tlsCurve : undefined;
        const rsaBits = args.rsaBits ?? MIN_RSA_BITS;
        // Config validation keeps rsaBits in range; this guards callers that build the component directly.
        if (!curve && (!Number.isInteger(rsaBits) || rsaBits < MIN_RSA_BITS)) {
            throw new pulumi.ResourceError(`JwtSigningKey ${name}: rsaBits must be a whole number of at least ${MIN_RSA_BITS}, got ${rsaBits}`, this);
        }
        const key = new tls.PrivateKey(`${name}-keypair`, curve
            // The provider's default curve is P224: always name it.
            ? { algorithm: "ECDSA", ecdsaCurve: curve }
            : { algorithm: "RSA", rsaBits },
        { parent: this, protect: args.protect ?? true });

        // PKCS#8 works for both key types with every JOSE library the signer may use.
        this.privateKeyPem = pulumi.secret(key.privateKeyPemPkcs8);
        this.publicKeyPem = key.publicKeyPem;
        const algorithm = this.algorithm;
        this.publicJwk = key.publicKeyPem.apply((pem) => publicJwkOf(pem, algorithm));
        this.kid = this.publicJwk.kid;

        this.registerOutputs({ publicKeyPem: this.publicKeyPem, publicJwk: this.publicJwk, kid: this.kid, privateKeyPem: this.privateKeyPem });
    }
}

/** The published JWK of an SPKI public key: its members plus kid = RFC 7638 thumbprint, alg and use. */
export async function publicJwkOf(spkiPem: string, algorithm: JwsAlgorithm): Promise<PublicJwk> {
    const key = await jose.importSPKI(spkiPem, algorithm, { extractable: true });
    const jwk = await jose.exportJWK(key);
    const kid = await jose.calculateJwkThumbprint(jwk, "sha256");
    return { ...jwk, kid, alg: algorithm, use: "sig" };
}
