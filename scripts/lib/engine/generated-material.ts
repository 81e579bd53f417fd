/**
 * Where the provider emulation's generated values (passwords, keys, ids, auto-name suffixes) come from: real
 * randomness, as the providers use, or, for a reproducible render (`npm run render -- <stack> --seed TEXT`),
 * values derived from the seed and the resource's URN, so two renders of the same commit are byte-identical.
 * Seeded values are public to anyone with the seed: they exist only in offline renders and are never deployed
 * (`pulumi up` runs the real providers, which never see the seed).
 */
import * as crypto from "node:crypto";

/** A source of uniform bytes for one purpose of one resource. */
export interface Entropy {
    /** `n` bytes. */
    bytes(n: number): Buffer;
    /** A uniform integer in [0, max). */
    randomInt(max: number): number;
}

/** What one resource's emulation draws on. */
export interface GeneratedMaterial {
    /** Set for a reproducible render: the text every value is derived from. */
    seed?: string;
    /** Entropy for one purpose (e.g. "result", "key", "id"): seeded purposes are independent of each other. */
    entropy(purpose: string): Entropy;
    /** The time a certificate's validity starts at. */
    now(): Date;
}

const RANDOM_ENTROPY: Entropy = { bytes: (n) => crypto.randomBytes(n), randomInt: (max) => crypto.randomInt(max) };

/** Real randomness and the real clock, as the providers generate: a new value every render. */
export const RANDOM_MATERIAL: GeneratedMaterial = { entropy: () => RANDOM_ENTROPY, now: () => new Date() };

/**
 * A reproducible render's clock: certificates start at a fixed instant, so the render does not depend on the day.
 * Their validity is therefore past or partly past: one more reason a seeded render is not for deployment.
 */
export const SEEDED_EPOCH = new Date(Date.UTC(2026, 0, 1));

// Domain separation: a seed used elsewhere (a test's, a habit's) gives unrelated values here.
const HKDF_INFO = "dcm-integration offline render: generated material";

/**
 * Material derived from `seed` and `urn`: HKDF-SHA256 turns the seed into a key, then HMAC-SHA256 in counter mode
 * over (URN, purpose, block) gives each purpose of each resource its own byte stream.
 */
export function seededMaterial(seed: string, urn: string): GeneratedMaterial {
    const key = Buffer.from(crypto.hkdfSync("sha256", seed, "", HKDF_INFO, 32));
    return {
        seed,
        entropy: (purpose) => {
            let block = 0;
            let pending = Buffer.alloc(0);
            const bytes = (n: number) => {
                while (pending.length < n) {
                    const next = crypto.createHmac("sha256", key).update(JSON.stringify([urn, purpose, block++])).digest();
                    pending = Buffer.concat([pending, next]);
                }
                const out = pending.subarray(0, n);
                pending = pending.subarray(n);
                return Buffer.from(out);
            };
            // Rejection sampling over 48 bits, as crypto.randomInt does: no modulo bias.
            const randomInt = (max: number) => {
                if (!Number.isSafeInteger(max) || max < 1 || max > 2 ** 48) throw new RangeError(`randomInt: max must be an integer in [1, 2^48], got ${max}`);
                const limit = 2 ** 48 - (2 ** 48 % max);
                for (;;) {
                    const x = bytes(6).readUIntBE(0, 6);
                    if (x < limit) return x % max;
                }
            };
            return { bytes, randomInt };
        },
        now: () => new Date(SEEDED_EPOCH),
    };
}

/** The material for a resource: seeded when the render has a seed, random otherwise. */
export function materialFor(seed: string | undefined, urn: string): GeneratedMaterial {
    return seed === undefined ? RANDOM_MATERIAL : seededMaterial(seed, urn);
}

/** A version 4 UUID (RFC 9562) from the entropy, like crypto.randomUUID. */
export function uuidFrom(entropy: Entropy): string {
    const b = entropy.bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const JWK_CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

/**
 * An EC key pair from the entropy: the private scalar is drawn at the curve's bit length and redrawn until it is
 * in [1, n-1] (OpenSSL judges that, in ECDH.setPrivateKey), the public point is computed from it, and the pair is
 * built from the JWK with both.
 */
export function ecKeyPairFrom(entropy: Entropy, nodeCurve: string): crypto.KeyPairKeyObjectResult {
    const crv = JWK_CURVES[nodeCurve];
    if (!crv) throw new Error(`tls: a seeded render makes ECDSA keys on ${Object.values(JWK_CURVES).join(", ")}, not ${nodeCurve}`);
    const ecdh = crypto.createECDH(nodeCurve);
    const bits = Number(crv.slice(2));
    const length = Math.ceil(bits / 8);
    let d: Buffer;
    for (;;) {
        d = entropy.bytes(length);
        // P-521: the top byte carries 1 bit of the scalar.
        d[0] &= 0xff >> (length * 8 - bits);
        try {
            ecdh.setPrivateKey(d);
            break;
        } catch {
            // Zero or not below the group order: draw again.
        }
    }
    const point = ecdh.getPublicKey();
    const half = (point.length - 1) / 2;
    const b64 = (b: Buffer) => b.toString("base64url");
    const privateKey = crypto.createPrivateKey({
        format: "jwk",
        key: { kty: "EC", crv, d: b64(d), x: b64(point.subarray(1, 1 + half)), y: b64(point.subarray(1 + half)) },
    });
    return { privateKey, publicKey: crypto.createPublicKey(privateKey) };
}

/** An Ed25519 key pair whose 32-byte private key (RFC 8032's seed) comes from the entropy. */
export function ed25519KeyPairFrom(entropy: Entropy): crypto.KeyPairKeyObjectResult {
    // PKCS#8 PrivateKeyInfo for id-Ed25519 (RFC 8410): a fixed prefix, then the 32 bytes.
    const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), entropy.bytes(32)]);
    const privateKey = crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    return { privateKey, publicKey: crypto.createPublicKey(privateKey) };
}

const RSA_E = 65537n;

/**
 * An RSA key pair from the entropy: each prime is the first probable prime (OpenSSL's test, crypto.checkPrimeSync)
 * among candidates drawn with their top two bits set (so n has exactly `bits` bits) and p-1 coprime to e.
 */
export function rsaKeyPairFrom(entropy: Entropy, bits: number): crypto.KeyPairKeyObjectResult {
    const p = probablePrime(entropy, Math.ceil(bits / 2));
    let q = probablePrime(entropy, Math.floor(bits / 2));
    while (q === p) q = probablePrime(entropy, Math.floor(bits / 2));
    const n = p * q;
    const lambda = lcm(p - 1n, q - 1n);
    const d = modInverse(RSA_E, lambda);
    const b64 = (x: bigint) => {
        const hex = x.toString(16);
        return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex").toString("base64url");
    };
    const privateKey = crypto.createPrivateKey({
        format: "jwk",
        key: { kty: "RSA", n: b64(n), e: b64(RSA_E), d: b64(d), p: b64(p), q: b64(q), dp: b64(d % (p - 1n)), dq: b64(d % (q - 1n)), qi: b64(modInverse(q, p)) },
    });
    return { privateKey, publicKey: crypto.createPublicKey(privateKey) };
}

function probablePrime(entropy: Entropy, bits: number): bigint {
    const length = Math.ceil(bits / 8);
    for (;;) {
        const b = entropy.bytes(length);
        b[0] &= 0xff >> (length * 8 - bits);
        const candidate = BigInt(`0x${b.toString("hex")}`) | (3n << BigInt(bits - 2)) | 1n;
        if ((candidate - 1n) % RSA_E !== 0n && crypto.checkPrimeSync(candidate)) return candidate;
    }
}

function gcd(a: bigint, b: bigint): bigint {
    while (b) [a, b] = [b, a % b];
    return a;
}
const lcm = (a: bigint, b: bigint) => (a / gcd(a, b)) * b;

/** a^-1 mod m (extended Euclid); a and m coprime. */
function modInverse(a: bigint, m: bigint): bigint {
    let [r0, r1] = [((a % m) + m) % m, m];
    let [s0, s1] = [1n, 0n];
    while (r1) {
        const k = r0 / r1;
        [r0, r1] = [r1, r0 - k * r1];
        [s0, s1] = [s1, s0 - k * s1];
    }
    if (r0 !== 1n) throw new Error("modInverse: not coprime");
    return ((s0 % m) + m) % m;
}
