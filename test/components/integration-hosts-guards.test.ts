/** IntegrationHosts built directly: each TLS mode's required setting is checked on the component itself. */
import { before, describe, it } from "node:test";
import { IntegrationHosts, IntegrationHostsArgs } from "../../components/integration-hosts";
import { setMocks, throwsResourceError } from "../../support/pulumi-mocks";

before(async () => { await setMocks(); });

const args = (tls: IntegrationHostsArgs["tls"]): IntegrationHostsArgs => ({
    namespace: "bank-demo-integrate", labels: {}, hosts: { backoffice: "backoffice-demo-integrate.dcm.example.com", api: "api-demo-integrate.dcm.example.com" },
    ingressClass: "nginx", tls, backends: { frontend: "frontend", kratosPublic: "kratos-public", kratosPublicPort: 4433, jwks: "jwks-server" },
    dcmApiUpstream: "http://dcm-api.dcm-platform.svc.cluster.local:8080",
});

describe("IntegrationHosts guards", () => {
    it("refuses cert-manager without an issuer", () => {
        throwsResourceError(() => new IntegrationHosts("cm", args({ mode: "cert-manager", issuer: "", secretName: "" })), /^IntegrationHosts cm: tlsIssuer is required for cert-manager$/);
    });

    it("refuses provided without a Secret name", () => {
        throwsResourceError(() => new IntegrationHosts("prov", args({ mode: "provided", issuer: "", secretName: "" })), /^IntegrationHosts prov: tlsSecretName is required for provided$/);
    });
});
