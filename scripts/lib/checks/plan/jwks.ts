/** Plan step 2: the JWKS at the published URL holds the stack's public key under the right kid. */
import * as jose from "jose";
import { CheckFailure, TransientFailure } from "../errors";
import type { CheckDefinition } from "./definition";

/** JWK members that only a private key has. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];

export function jwksChecks(): CheckDefinition[] {
    return [{
        id: "jwks",
        step: "2",
        title: "the published JWKS holds the stack's public key under its kid",
        needs: (facts) => [facts.jwksUrl],
        attempt: async ({ facts, http }, timeoutMs) => {
            const res = await http.request(facts.jwksUrl, { headers: { accept: "application/json" }, timeoutMs });
            // Named as the JWKS server's fault: the hosts' TLS and HSTS checks pass on this same 5xx.
            if (res.status >= 500) throw new TransientFailure(`the JWKS server answered ${res.status} to GET ${facts.jwksUrl}`);
            if (res.status !== 200) throw new CheckFailure(`GET ${facts.jwksUrl} answered ${res.status}, expected 200`);
            let doc: { keys?: unknown };
            try {
                doc = JSON.parse(res.body) as { keys?: unknown };
            } catch {
                throw new CheckFailure("the JWKS is not JSON");
            }
            if (!Array.isArray(doc?.keys)) throw new CheckFailure("the JWKS has no keys array");
            const keys = doc.keys as jose.JWK[];
            if (keys.some((k) => PRIVATE_MEMBERS.some((m) => m in (k ?? {})))) throw new CheckFailure("the JWKS publishes private key material");
            const key = keys.find((k) => k?.kid === facts.kid);
            if (!key) throw new CheckFailure(`no key with kid ${facts.kid} (kids: ${keys.map((k) => k?.kid ?? "none").join(", ") || "none"})`);
            if (key.alg && key.alg !== facts.signingAlgorithm) throw new CheckFailure(`key ${facts.kid} has alg ${key.alg}, expected ${facts.signingAlgorithm}`);
            if (key.use && key.use !== "sig") throw new CheckFailure(`key ${facts.kid} has use '${key.use}', expected 'sig'`);
            let published: string;
            try {
                published = await jose.calculateJwkThumbprint(key, "sha256");
            } catch {
                throw new CheckFailure(`key ${facts.kid} is not a valid public JWK`);
            }
            const stackJwk = await jose.exportJWK(await jose.importSPKI(facts.publicKeyPem, facts.signingAlgorithm, { extractable: true }));
            const expected = await jose.calculateJwkThumbprint(stackJwk, "sha256");
            // The outputs' kid is the thumbprint of publicKeyPem (stackFacts checks it).
            if (published !== expected) throw new CheckFailure(`the key published under kid ${facts.kid} is not the stack's public key`);
        },
    }];
}
