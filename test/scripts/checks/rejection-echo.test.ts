/**
 * The key keeper's rejections, checked one by one: a forged or replayed token answered 400/401/403 passes only
 * if the answer's body does not echo a user's secret (whole, in part or encoded), and the failure shows none of it.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { before, describe, it } from "node:test";
import * as jose from "jose";
import { CheckFailure } from "../../../scripts/lib/checks/errors";
import type { HttpClient, HttpResponse } from "../../../scripts/lib/checks/http";
import { FORGERIES } from "../../../scripts/lib/checks/jwt";
import { Redactor } from "../../../domain/redact";
import type { StackFacts } from "../../../scripts/lib/checks/outputs";
import type { CheckContext, CheckDefinition } from "../../../scripts/lib/checks/plan/definition";
import { keyKeeperChecks } from "../../../scripts/lib/checks/plan/key-keeper";

const HOST = "api-demo-integrate.dcm.example.com";
let facts: StackFacts;

before(async () => {
    const pair = await jose.generateKeyPair("ES256", { extractable: true });
    const jwk = await jose.exportJWK(pair.publicKey);
    facts = {
        alias: "demo",
        backofficeHost: "backoffice-demo-integrate.dcm.example.com",
        apiHost: HOST,
        backofficeUrl: "https://backoffice-demo-integrate.dcm.example.com",
        apiUrl: `https://${HOST}`,
        kratosPublicUrl: "https://backoffice-demo-integrate.dcm.example.com/.ory",
        jwksUrl: `https://${HOST}/.well-known/jwks.json`,
        keyKeeperUrl: "https://keykeeper.demo-bank.example/api",
        signingAlgorithm: "ES256",
        kid: await jose.calculateJwkThumbprint(jwk, "sha256"),
        publicKeyPem: await jose.exportSPKI(pair.publicKey),
        privateKeyPem: await jose.exportPKCS8(pair.privateKey),
        users: [
            { entity: "identification", username: "dcm-demo-identification", secret: `CANARY-ident-${crypto.randomBytes(12).toString("hex")}` },
            { entity: "processing", username: "dcm-demo-processing", secret: `CANARY-proc-${crypto.randomBytes(12).toString("hex")}` },
        ],
    };
});

/**
 * A context as the runner builds it (its redactor knows the users' secrets) whose key keeper answers the n-th
 * request with answers[n] (the last one repeated).
 */
function contextAnswering(answers: Omit<HttpResponse, "headers">[]): CheckContext {
    const redactor = new Redactor();
    for (const u of facts.users) redactor.add(u.secret);
    redactor.add(facts.privateKeyPem);
    let n = 0;
    const http = { request: async () => ({ headers: { "content-type": "application/json" }, ...answers[Math.min(n++, answers.length - 1)] }) } as unknown as HttpClient;
    return { stack: "demo", facts, http, addSecret: (v: unknown) => redactor.add(v), reveals: (t: string) => redactor.reveals(t) };
}

/** The checks that send a token the key keeper must refuse, and what a correct key keeper answers before the refusal. */
const rejectionChecks = (): { check: CheckDefinition; before: Omit<HttpResponse, "headers">[] }[] => {
    const ok = { status: 200, body: JSON.stringify({ users: facts.users.map(({ username, secret }) => ({ username, secret })) }) };
    const checks = keyKeeperChecks().filter((c) => c.id.startsWith("key-keeper-rejects-"));
    assert.ok(checks.length >= FORGERIES.length, `a rejection check per forgery: ${checks.map((c) => c.id).join(", ")}`);
    // The replay check first sends DCM's valid token, which must succeed, then the same token again.
    return checks.map((check) => ({ check, before: check.id === "key-keeper-rejects-replayed-jti" ? [ok] : [] }));
};

/** Bodies echoing a user's secret: whole, a part of it, inside a Basic credential. */
const ECHOES: { what: string; body: (user: { username: string; secret: string }) => string }[] = [
    { what: "the whole secret", body: (u) => JSON.stringify({ error: "invalid_token", debug: { username: u.username, expected: u.secret } }) },
    { what: "half of the secret", body: (u) => `invalid token; expected a secret starting ${u.secret.slice(0, Math.ceil(u.secret.length / 2))}` },
    { what: "the secret in a Basic credential", body: (u) => `{"hint":"Basic ${Buffer.from(`${u.username}:${u.secret}`).toString("base64")}"}` },
];

describe("a key keeper's rejection that echoes a user's secret", () => {
    it("fails every rejection check, for each status and form of echo, with a reason that shows no secret", async () => {
        for (const { check, before } of rejectionChecks()) {
            for (const [i, status] of [401, 403, 400].entries()) {
                for (const echo of ECHOES) {
                    const user = facts.users[i % facts.users.length];
                    const ctx = contextAnswering([...before, { status, body: echo.body(user) }]);
                    await assert.rejects(check.attempt(ctx, 5000), (e: Error) => {
                        assert.ok(e instanceof CheckFailure, `${check.id}, ${echo.what}: a CheckFailure, got ${e.name}: ${e.message}`);
                        assert.equal(e.message, `rejected with ${status}, but the body holds a user's secret`, `${check.id}, ${echo.what}`);
                        return true;
                    });
                }
            }
        }
    });

    it("passes a rejection that names the user but holds no secret (the check is not a blanket failure)", async () => {
        for (const { check, before } of rejectionChecks()) {
            const body = JSON.stringify({ error: "invalid_token", username: facts.users[0].username });
            await check.attempt(contextAnswering([...before, { status: 401, body }]), 5000);
        }
    });
});
