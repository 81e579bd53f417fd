/**
 * The JWS algorithms DCM may sign a bank's tokens with, and the key each needs (RFC 7518 section 3.1): the one
 * list the config validation, the JwtSigningKey component and the post-deploy checks read.
 */

/** JWS algorithms DCM may sign with. */
export const SIGNING_ALGORITHMS = ["ES256", "ES384", "ES512", "RS256", "PS256"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** Smallest RSA modulus accepted for a signing key (NIST SP 800-57: 128-bit security). */
export const MIN_RSA_BITS = 3072;
/** Largest RSA modulus accepted (signing with a larger key is slow and no stronger where it matters). */
export const MAX_RSA_BITS = 8192;

/** The key an algorithm needs: an EC curve, or RSA. */
export type SigningKeyKind =
    /** ECDSA on a named curve: its name for the TLS provider and for Node.js' crypto (OpenSSL). */
    | { type: "ec"; tlsCurve: "P256" | "P384" | "P521"; nodeCurve: "prime256v1" | "secp384r1" | "secp521r1" }
    /** RSA: `nodeTypes` are the key types Node.js reports for a key that suits it. */
    | { type: "rsa"; nodeTypes: readonly string[] };

/** The key each algorithm needs. */
export const SIGNING_KEYS: Readonly<Record<SigningAlgorithm, SigningKeyKind>> = {
    ES256: { type: "ec", tlsCurve: "P256", nodeCurve: "prime256v1" },
    ES384: { type: "ec", tlsCurve: "P384", nodeCurve: "secp384r1" },
    ES512: { type: "ec", tlsCurve: "P521", nodeCurve: "secp521r1" },
    RS256: { type: "rsa", nodeTypes: ["rsa"] },
    // RSASSA-PSS signs with an ordinary RSA key as well as with one restricted to PSS.
    PS256: { type: "rsa", nodeTypes: ["rsa", "rsa-pss"] },
};

/** Whether a value names one of SIGNING_ALGORITHMS. */
export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
    return typeof value === "string" && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

/**
 * Why an RSA modulus length is refused, or undefined: a multiple of 1024 from MIN_RSA_BITS to MAX_RSA_BITS.
 */
export function rsaBitsProblem(bits: number): string | undefined {
    if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS || bits % 1024 !== 0) {
        return `must be a multiple of 1024 from ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`;
    }
    return undefined;
}
