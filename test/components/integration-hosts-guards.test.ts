/** IntegrationHosts built directly: each TLS mode's required setting is checked on the component itself. */
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DCM_API_PATHS } from "../../domain/routing";
import { IntegrationHosts, IntegrationHostsArgs } from "../../components/integration-hosts";
import { setMocks, throwsResourceError } from "../../support/pulumi-mocks";

before(async () => { await setMocks(); });

const name = (n: string) => pulumi.output(n);
const args = (tls: IntegrationHostsArgs["tls"]): IntegrationHostsArgs => ({
    namespace: name("bank-demo-integrate"), namespaceName: "bank-demo-integrate", labels: {}, hosts: { backoffice: "backoffice-demo-integrate.dcm.example.com", api: "api-demo-integrate.dcm.example.com" },
    ingressClass: "nginx", tls, backends: { frontend: name("frontend"), kratosPublic: name("kratos-public"), kratosPublicPort: 4433, jwks: name("jwks-server") },
    edge: {
        routing: "gateway-api", gateway: { name: "dcm-edge", namespace: "dcm-gateway", listeners: "listener-set", className: "" }, rateLimit: "none", trustedProxyCidrs: [],
        dcmApi: { name: "dcm-api", namespace: "dcm-platform", port: 8443, hostname: "dcm-api.dcm-platform.svc.cluster.local", paths: [...DEFAULT_DCM_API_PATHS], ca: "dcm-api-ca" },
    },
});

describe("IntegrationHosts guards", () => {
    it("refuses cert-manager without an issuer", () => {
        throwsResourceError(() => new IntegrationHosts("cm", args({ mode: "cert-manager", issuer: "", secretName: "" })), /^IntegrationHosts cm: tlsIssuer is required for cert-manager$/);
    });

    it("refuses provided without a Secret name", () => {
        throwsResourceError(() => new IntegrationHosts("prov", args({ mode: "provided", issuer: "", secretName: "" })), /^IntegrationHosts prov: tlsSecretName is required for provided$/);
    });
});
