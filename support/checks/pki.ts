/** A test CA and host certificates made at test time (ECDSA P-256), including broken ones. */
import "reflect-metadata";
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const DAY = 86_400_000;
const subtle = crypto.webcrypto.subtle;

export interface KeyAndCert {
    cert: string;
    key: string;
}

export interface Pki {
    caPem: string;
    /** A server certificate for names, valid from `fromDays` to `toDays` days around now. */
    issue(names: string[], validity?: { fromDays?: number; toDays?: number }): Promise<KeyAndCert>;
}

type WebKeyPair = { publicKey: Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[0]; privateKey: CryptoKey };
type CryptoKey = Extract<Parameters<typeof x509.X509CertificateGenerator.create>[0], { signingKey: unknown }>["signingKey"];

async function keyPair(): Promise<WebKeyPair> {
    return await subtle.generateKey(ALG, true, ["sign", "verify"]) as unknown as WebKeyPair;
}

async function pkcs8Pem(key: WebKeyPair["privateKey"]): Promise<string> {
    const der = Buffer.from(await subtle.exportKey("pkcs8", key as unknown as crypto.webcrypto.CryptoKey));
    return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
}

export async function createPki(name = "DCM Test CA"): Promise<Pki> {
    const ca = await keyPair();
    const now = Date.now();
    const caCert = await x509.X509CertificateGenerator.createSelfSigned({
        name: `CN=${name}`, keys: ca as never, signingAlgorithm: ALG,
        notBefore: new Date(now - DAY), notAfter: new Date(now + 3650 * DAY),
        extensions: [
            new x509.BasicConstraintsExtension(true, 0, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            await x509.SubjectKeyIdentifierExtension.create(ca.publicKey),
        ],
    });
    return {
        caPem: caCert.toString("pem"),
        issue: async (names, validity = {}) => {
            const leaf = await keyPair();
            const cert = await x509.X509CertificateGenerator.create({
                subject: `CN=${names[0]}`, issuer: caCert.subject, publicKey: leaf.publicKey, signingKey: ca.privateKey, signingAlgorithm: ALG,
                notBefore: new Date(now + (validity.fromDays ?? -1) * DAY), notAfter: new Date(now + (validity.toDays ?? 90) * DAY),
                extensions: [
                    new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value }))),
                    new x509.BasicConstraintsExtension(false),
                    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
                    await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
                ],
            });
            return { cert: cert.toString("pem"), key: await pkcs8Pem(leaf.privateKey) };
        },
    };
}
