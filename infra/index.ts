/**
 * One bank's integration environment on DCM's cluster (one stack per bank alias).
 * The Pulumi CLI runs this file from infra/ (Pulumi.yaml `main`); the offline render runs it the same way.
 */
import * as pulumi from "@pulumi/pulumi";
import { BankNamespace } from "../components/bank-namespace";
import { BankNetworkPolicies } from "../components/bank-network-policies";
import { FirstEmployee } from "../components/first-employee";
import { Frontend, FRONTEND_PORT } from "../components/frontend";
import { IntegrationHosts } from "../components/integration-hosts";
import { JWKS_SERVER_PORT, JwksServer } from "../components/jwks-server";
import { Kratos } from "../components/kratos";
import { KRATOS_ADMIN_PORT, KRATOS_PUBLIC_PORT } from "../components/kratos-config";
import { JwtKeySet } from "../components/jwt-key-set";
import { JwtSigningKey } from "../components/jwt-signing-key";
import { KeyKeeperSecrets } from "../components/key-keeper-secrets";
import { componentLabels } from "../domain/names";
import { SMTP_PORTS } from "../domain/rules";
import { edgeNotes } from "../domain/routing";
import { kratosSecrets, loadSettings } from "./config";
import { skipAwaitTransform } from "./skip-await";

// Validated before the first resource: a bad config creates nothing.
const settings = loadSettings();
const { bank, hosts, platform } = settings;
// Before the first resource, so it reaches them all; only the tests' node-less API server sets it.
if (platform.skipAwait) pulumi.runtime.registerResourceTransform(skipAwaitTransform);
const labels = settings.labels;

const namespace = new BankNamespace("bank", { name: settings.namespace, labels });

const signingKeys = bank.signingKeys.map((slot) =>
    new JwtSigningKey(`jwt-signing-key-${slot.slot}`, { algorithm: slot.algorithm, rsaBits: slot.rsaBits }));
const activeKey = signingKeys[bank.signingKeys.findIndex((slot) => slot.slot === bank.activeSigningKey)];
const keySet = new JwtKeySet("jwt", {
    namespace: namespace.name,
    labels: componentLabels(labels, "jwt-keys", "signing"),
    keys: signingKeys,
    active: activeKey,
    // The private key goes where DCM's signer runs, not into the bank's namespace.
    signer: {
        namespace: platform.signerNamespace,
        serviceAccount: platform.signerServiceAccount,
        secretName: settings.signerSecretName,
    },
});

const keyKeeper = new KeyKeeperSecrets("key-keeper", {
    namespace: namespace.name,
    labels: componentLabels(labels, "key-keeper-users", "credentials"),
    usernames: settings.usernames,
});

const apiUrlValue = `https://${hosts.api}`;
const kratos = new Kratos("kratos", {
    namespace: namespace.name,
    labels,
    image: platform.images.kratos,
    backofficeHost: hosts.backoffice,
    fromAddress: `no-reply@${platform.baseDomain}`,
    fromName: `${bank.displayName} backoffice`,
    devMode: bank.kratosDevMode,
    // Read only outside dev mode, where validation has made sure both secrets are set.
    secrets: bank.kratosDevMode ? undefined : kratosSecrets(),
});

const frontend = new Frontend("frontend", {
    namespace: namespace.name,
    labels,
    image: platform.images.frontend,
    apiBaseUrl: apiUrlValue,
    kratosPublicUrl: kratos.publicUrl,
    bank: { alias: bank.alias, displayName: bank.displayName },
});

const jwksServer = new JwksServer("jwks-server", {
    namespace: namespace.name,
    labels,
    image: platform.images.jwksServer,
    jwksConfigMapName: keySet.configMapName,
});

const firstEmployee = new FirstEmployee("first-employee", {
    namespace: namespace.name,
    labels,
    email: bank.firstEmployeeEmail,
    kratosAdminService: kratos.adminServiceName,
    image: platform.images.bootstrap,
    kratosReady: [kratos.deployment],
});

const integrationHosts = new IntegrationHosts("hosts", {
    namespace: namespace.name,
    namespaceName: settings.namespace,
    labels,
    hosts,
    ingressClass: platform.ingressClass,
    edge: platform.edge,
    tls: { mode: platform.tlsMode, issuer: platform.tlsIssuer, secretName: platform.tlsSecretName },
    backends: { frontend: frontend.serviceName, kratosPublic: kratos.publicServiceName, kratosPublicPort: KRATOS_PUBLIC_PORT, jwks: jwksServer.serviceName },
});

new BankNetworkPolicies("network", {
    namespace: namespace.name,
    labels,
    ingressNamespace: platform.ingressNamespace,
    pods: {
        frontend: frontend.podLabels,
        jwksServer: jwksServer.podLabels,
        kratosServer: kratos.serverPodLabels,
        bootstrap: firstEmployee.podLabels,
    },
    ports: { frontend: FRONTEND_PORT, jwksServer: JWKS_SERVER_PORT, kratosPublic: KRATOS_PUBLIC_PORT, kratosAdmin: KRATOS_ADMIN_PORT },
    // By address and port (validation holds the DSN to 5432 and the SMTP URI to 465/587); none in dev mode.
    kratosDatabase: bank.kratosDevMode ? undefined : { pods: kratos.databaseClients, cidrs: bank.kratosDatabaseCidrs, ports: [5432] },
    kratosSmtp: bank.kratosDevMode ? undefined : { pods: kratos.smtpClients, cidrs: bank.kratosSmtpCidrs, ports: SMTP_PORTS.map(Number) },
    apiServerCidrs: platform.apiServerCidr,
});

export const alias = bank.alias;
export const namespaceName = namespace.name;
export const backofficeHost = hosts.backoffice;
export const apiHost = hosts.api;
export const jwksUrl = `https://${hosts.api}/.well-known/jwks.json`;
export const keyKeeperUrl = bank.keyKeeperUrl;
export const signingAlgorithm = activeKey.algorithm;
export const kid = activeKey.kid;
export const publicKeyPem = activeKey.publicKeyPem;
export const publicJwk = activeKey.publicJwk;
export const jwks = keySet.jwks;
export const keyKeeperUsernames = keyKeeper.usernames;
// Secret outputs: for DCM's post-deploy checks (`pulumi stack output --show-secrets`) and the bank officer.
export const keyKeeperPasswords = keyKeeper.passwords;
export const signingPrivateKeyPem = pulumi.secret(activeKey.privateKeyPem);
export const backofficeUrl = integrationHosts.urls.backoffice;
export const apiUrl = integrationHosts.urls.api;
export const kratosPublicUrl = kratos.publicUrl;
export const firstEmployeeRecoverySecret = firstEmployee.recoverySecretName;
// What the edge does and does not do (routing API, rate limit, client address): the render prints it.
export const routing = platform.edge.routing;
export const edgeWarnings = edgeNotes(platform.edge);
// Self-signed mode only: the CA that checks and banks must trust.
export const tlsCaCertificatePem = integrationHosts.caCertificatePem;
