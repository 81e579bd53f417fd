/** The @pulumi/tls certificate emulators make real X.509 certificates, checked here with node:crypto. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { emulate, emulateResource } from "../../scripts/lib/engine/provider-emulation";
import { isSecretValue, unwrapSecrets } from "../../domain/secret-values";

const key = (algorithm: "ECDSA" | "RSA") => unwrapSecrets(emulate({
    type: "tls:index/privateKey:PrivateKey", name: "k", custom: true, secretOutputs: [],
    inputs: algorithm === "RSA" ? { algorithm, rsaBits: 2048 } : { algorithm, ecdsaCurve: "P256" },
}).state) as Record<string, string>;

const run = async (type: string, inputs: Record<string, unknown>) =>
    (await emulateResource({ type, name: "r", inputs, custom: true, secretOutputs: [] })).state;

async function chain(algorithm: "ECDSA" | "RSA", host: string) {
    const caKey = key(algorithm);
    const ca = await run("tls:index/selfSignedCert:SelfSignedCert", {
        privateKeyPem: { $secret: caKey.privateKeyPem }, subject: { commonName: "Test CA, Kyiv", organization: "DCM" },
        isCaCertificate: true, validityPeriodHours: 48, allowedUses: ["cert_signing", "crl_signing"],
    });
    const hostKey = key(algorithm);
    const csr = await run("tls:index/certRequest:CertRequest", {
        privateKeyPem: { $secret: hostKey.privateKeyPem }, subject: { commonName: host }, dnsNames: [host],
    });
    const cert = await run("tls:index/locallySignedCert:LocallySignedCert", {
        certRequestPem: csr.certRequestPem, caPrivateKeyPem: { $secret: caKey.privateKeyPem }, caCertPem: ca.certPem,
        validityPeriodHours: 24, allowedUses: ["digital_signature", "key_encipherment", "server_auth"], setSubjectKeyId: true,
    });
    return { caKey, ca, hostKey, csr, cert };
}

describe("certificate emulation", () => {
    for (const algorithm of ["ECDSA", "RSA"] as const) {
        it(`signs a host certificate with a self-signed CA (${algorithm}) that node:crypto verifies`, async () => {
            const host = "api-demo-integrate.dcm.example.com";
            const { ca, cert, hostKey } = await chain(algorithm, host);
            const caCert = new crypto.X509Certificate(ca.certPem as string);
            const leaf = new crypto.X509Certificate(cert.certPem as string);
            assert.equal(caCert.ca, true);
            assert.ok(caCert.verify(caCert.publicKey), "the CA is self-signed");
            assert.match(caCert.subject, /^CN=Test CA\\, Kyiv$/m, "the comma is part of the name (escaped in the DN)");
            assert.equal(leaf.ca, false);
            assert.ok(leaf.verify(caCert.publicKey));
            assert.ok(leaf.checkIssued(caCert));
            assert.equal(leaf.checkHost(host), host);
            assert.equal(leaf.checkHost("api-other-integrate.dcm.example.com"), undefined);
            assert.deepEqual(leaf.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
            assert.ok(leaf.checkPrivateKey(crypto.createPrivateKey(hostKey.privateKeyPem)));
            const hours = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 3600_000;
            assert.equal(hours, 24);
            assert.equal(Date.parse(cert.validityEndTime as string) - Date.parse(cert.validityStartTime as string), 24 * 3600_000);
            assert.equal(cert.caKeyAlgorithm, algorithm);
            assert.ok(isSecretValue(cert.caPrivateKeyPem), "the CA key stays secret in state");
        });
    }

    it("refuses a certificate request whose signature does not verify", async () => {
        const { caKey, ca, csr } = await chain("ECDSA", "a.example");
        // The same request with another host name in its body: well-formed, but the signature no longer matches.
        const der = Buffer.from((csr.certRequestPem as string).replace(/-----[^-]+-----|\s/g, ""), "base64");
        const forged = Buffer.from(der.toString("latin1").replace(/a\.example/g, "b.example"), "latin1");
        assert.notDeepEqual(forged, der);
        const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${forged.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
        await assert.rejects(run("tls:index/locallySignedCert:LocallySignedCert", {
            certRequestPem: pem, caPrivateKeyPem: caKey.privateKeyPem, caCertPem: ca.certPem, validityPeriodHours: 1, allowedUses: ["server_auth"],
        }), /signature does not verify/);
    });

    it("rejects unknown uses and a non-positive validity, as the provider does", async () => {
        const k = key("ECDSA");
        await assert.rejects(run("tls:index/selfSignedCert:SelfSignedCert", {
            privateKeyPem: k.privateKeyPem, subject: { commonName: "x" }, validityPeriodHours: 1, allowedUses: ["server_auth", "sever_auth"],
        }), /unknown allowedUses sever_auth/);
        await assert.rejects(run("tls:index/selfSignedCert:SelfSignedCert", {
            privateKeyPem: k.privateKeyPem, subject: { commonName: "x" }, validityPeriodHours: 0, allowedUses: [],
        }), /validityPeriodHours must be positive/);
    });
});
