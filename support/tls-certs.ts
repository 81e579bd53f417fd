/** Real certificates for test servers, made by the same emulators the offline render uses (@pulumi/tls semantics). */
import { emulate, emulateResource } from "../scripts/lib/engine/provider-emulation";
import { unwrapSecrets } from "../domain/secret-values";

export interface TestPki {
    /** CA certificate PEM, for clients. */
    ca: string;
    /** Server certificate PEM (leaf). */
    cert: string;
    /** Server private key PEM. */
    key: string;
}

const make = async (type: string, name: string, inputs: Record<string, unknown>) =>
    unwrapSecrets((await emulateResource({ type, name, inputs, custom: true, secretOutputs: [] })).state) as Record<string, string>;

/** A CA and a server certificate for the given DNS names and IP addresses. */
export async function testPki(dnsNames: string[], ipAddresses: string[] = []): Promise<TestPki> {
    const key = (name: string) => unwrapSecrets(emulate({
        type: "tls:index/privateKey:PrivateKey", name, inputs: { algorithm: "ECDSA", ecdsaCurve: "P256" }, custom: true, secretOutputs: [],
    }).state) as Record<string, string>;
    const caKey = key("ca-key");
    const ca = await make("tls:index/selfSignedCert:SelfSignedCert", "ca", {
        privateKeyPem: caKey.privateKeyPem, subject: { commonName: "test CA" }, isCaCertificate: true,
        validityPeriodHours: 1, allowedUses: ["cert_signing", "digital_signature"],
    });
    const serverKey = key("server-key");
    const csr = await make("tls:index/certRequest:CertRequest", "csr", {
        privateKeyPem: serverKey.privateKeyPem, subject: { commonName: dnsNames[0] ?? ipAddresses[0] }, dnsNames, ipAddresses,
    });
    const cert = await make("tls:index/locallySignedCert:LocallySignedCert", "cert", {
        certRequestPem: csr.certRequestPem, caPrivateKeyPem: caKey.privateKeyPem, caCertPem: ca.certPem,
        validityPeriodHours: 1, allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
    });
    return { ca: ca.certPem, cert: cert.certPem, key: serverKey.privateKeyPem };
}
