/**
 * One bank's integration environment on DCM's cluster (one stack per bank alias).
 * The Pulumi CLI runs this file from infra/ (Pulumi.yaml `main`); the offline render runs it the same way.
 */
import * as pulumi from "@pulumi/pulumi";
import { BankNamespace } from "../components/bank-namespace";
import { JwtKeySet } from "../components/jwt-key-set";
import { JwtSigningKey } from "../components/jwt-signing-key";
import { KeyKeeperSecrets } from "../components/key-keeper-secrets";
import { loadSettings } from "./config";
import { bankLabels, componentLabels } from "./labels";

// Validated before the first resource: a bad config creates nothing.
const settings = loadSettings();
const { bank, hosts } = settings;
const labels = bankLabels(settings);

const namespace = new BankNamespace("bank", { name: settings.namespace, labels });

const signingKeys = bank.signingKeys.map((slot) =>
    new JwtSigningKey(`jwt-signing-key-${slot.slot}`, { algorithm: slot.algorithm, rsaBits: slot.rsaBits }));
const activeKey = signingKeys[bank.signingKeys.findIndex((slot) => slot.slot === bank.activeSigningKey)];
const keySet = new JwtKeySet("jwt", {
    namespace: namespace.name,
    labels: componentLabels(labels, "jwt-keys", "signing"),
    keys: signingKeys,
    active: activeKey,
});

const keyKeeper = new KeyKeeperSecrets("key-keeper", {
    namespace: namespace.name,
    labels: componentLabels(labels, "key-keeper-users", "credentials"),
    alias: bank.alias,
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
