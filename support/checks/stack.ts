/** A bank's stack outputs as `pulumi stack output --json --show-secrets` prints them, with a real key pair. */
import * as crypto from "node:crypto";
import * as jose from "jose";
import { deriveNames } from "../../domain/names";

export const ALIAS = "demo";
/** The demo bank's names, as the program derives them. */
const NAMES = deriveNames({ alias: ALIAS, assetCode: "UAH" }, { environment: "integrate", baseDomain: "dcm.example.com" });
export const BACKOFFICE = NAMES.hosts.backoffice;
export const API = NAMES.hosts.api;
export const KEY_KEEPER = "keykeeper.demo-bank.example";
/** The key keeper's GET /key URL as DCM calls it: the `htu` its tokens name (keyKeeperUrl + /key). */
export const KEY_KEEPER_KEY_URL = `https://${KEY_KEEPER}/api/key`;

export interface StackMaterial {
    outputs: Record<string, unknown>;
    /** Every secret value in the outputs (canaries: each contains CANARY). */
    secrets: string[];
    users: { username: string; secret: string }[];
    publicKeyPem: string;
    jwks: { keys: jose.JWK[] };
    kid: string;
}

/** Outputs with a fresh key; passwords are canaries, recognisable if they ever leak. */
export async function stackMaterial(alg: "ES256" | "RS256" | "PS256" | "ES384" = "ES256"): Promise<StackMaterial> {
    const pair = await jose.generateKeyPair(alg, { extractable: true });
    const publicKeyPem = await jose.exportSPKI(pair.publicKey);
    const privateKeyPem = await jose.exportPKCS8(pair.privateKey);
    const jwk = await jose.exportJWK(pair.publicKey);
    const kid = await jose.calculateJwkThumbprint(jwk, "sha256");
    const publicJwk = { ...jwk, kid, alg, use: "sig" };
    const passwords = {
        identification: `CANARY-ident-${crypto.randomBytes(12).toString("hex")}`,
        processing: `CANARY-proc-${crypto.randomBytes(12).toString("hex")}`,
    };
    const usernames = NAMES.usernames;
    return {
        outputs: {
            alias: ALIAS,
            namespaceName: NAMES.namespace,
            backofficeHost: BACKOFFICE,
            apiHost: API,
            jwksUrl: `https://${API}/.well-known/jwks.json`,
            keyKeeperUrl: `https://${KEY_KEEPER}/api`,
            signingAlgorithm: alg,
            kid,
            publicKeyPem,
            publicJwk,
            jwks: { keys: [publicJwk] },
            keyKeeperUsernames: usernames,
            keyKeeperPasswords: passwords,
            signingPrivateKeyPem: privateKeyPem,
        },
        secrets: [passwords.identification, passwords.processing, privateKeyPem],
        users: [{ username: usernames.identification, secret: passwords.identification }, { username: usernames.processing, secret: passwords.processing }],
        publicKeyPem,
        jwks: { keys: [publicJwk] },
        kid,
    };
}
