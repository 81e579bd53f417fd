/** Mandatory: DCM's JWTs are accepted by every bank; a weak key (P-224, RSA below 3072) lets a forger sign as DCM. */
import type { ResourceValidationPolicy } from "@pulumi/policy";

const TLS_PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
const STRONG_CURVES = ["P256", "P384", "P521"];
export const MIN_RSA_BITS = 3072;

export const keysSigningKeyStrength: ResourceValidationPolicy = {
    name: "keys-signing-key-strength",
    description: "Every tls.PrivateKey (the JWT signing keys) is ECDSA P-256 or stronger, or RSA of at least 3072 bits.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== TLS_PRIVATE_KEY) return;
        const algorithm = String(args.props.algorithm ?? "");
        if (algorithm === "ECDSA") {
            // The provider's default curve is P224.
            const curve = String(args.props.ecdsaCurve ?? "P224");
            if (!STRONG_CURVES.includes(curve)) reportViolation(`ECDSA key on curve ${curve} is too weak: use P256, P384 or P521.`);
        } else if (algorithm === "RSA") {
            // The provider's default size is 2048.
            const bits = Number(args.props.rsaBits ?? 2048);
            if (!(bits >= MIN_RSA_BITS)) reportViolation(`RSA key of ${bits} bits is too weak: use at least ${MIN_RSA_BITS} bits.`);
        } else {
            reportViolation(`Key algorithm "${algorithm}" is not accepted for JWT signing: use ECDSA (P256 or stronger) or RSA (${MIN_RSA_BITS} bits or more).`);
        }
    },
};
