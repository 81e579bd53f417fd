/**
 * runChecks against a whole bank environment on loopback (real TLS, real JWTs, the reference key keeper,
 * the fake DCM API), healthy and with one fault at a time. @slow: it waits out retry deadlines (npm run test:fast skips it).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { CheckReport, DEFAULT_SCENARIO, InputError, runChecks } from "../../../scripts/lib/checks";
import type { ProgressEvent } from "../../../scripts/lib/checks";
import { createTokenVerifier } from "../../../reference/key-keeper/verifier";
import { TransientFailure } from "../../../scripts/lib/checks/errors";
import type { HttpClient } from "../../../scripts/lib/checks/http";
import { stackFacts } from "../../../scripts/lib/checks/outputs";
import { backofficeChecks } from "../../../scripts/lib/checks/plan/backoffice";
import { EnvOptions, LoopbackEnv, startEnvironment } from "../../../support/checks/environment";
import { KEY_KEEPER_KEY_URL, stackMaterial } from "../../../support/checks/stack";

async function withEnv<T>(options: EnvOptions, body: (env: LoopbackEnv) => Promise<T>): Promise<T> {
    const env = await startEnvironment(options);
    try {
        return await body(env);
    } finally {
        await env.close();
    }
}

function run(env: LoopbackEnv, extra: Partial<Parameters<typeof runChecks>[0]> = {}): Promise<CheckReport> {
    return runChecks({ stack: "demo", outputs: env.outputs, resolve: env.resolve, caPem: [env.caPem], deadlineMs: 20_000, timeoutMs: 8000, skip: ["scenario-*"], ...extra });
}

const failed = (r: CheckReport) => Object.fromEntries(r.results.filter((x) => x.status === "fail").map((x) => [x.id, x.reason ?? ""]));

function assertNoSecret(env: LoopbackEnv, text: string): void {
    for (const secret of [...env.material.secrets, ...env.dcm.customerSecrets]) assert.ok(!text.includes(secret), "a secret reached the report");
    assert.ok(!text.includes("CANARY"), "a canary reached the report");
}

describe("runChecks on a healthy environment", () => {
    it("passes every check of every plan step, the scenario included, and the report holds no secret", async () => {
        await withEnv({}, async (env) => {
            const events: ProgressEvent[] = [];
            const report = await run(env, { skip: [], onProgress: (e) => events.push(e) });
            assert.deepEqual(failed(report), {});
            assert.equal(report.passed, true);
            const ids = report.results.map((r) => r.id);
            for (const id of ["https-backoffice", "https-api", "http-redirect-api", "hsts-backoffice", "frontend-html", "kratos-health", "kratos-login-flow",
                "kratos-admin-hidden", "jwks", "key-keeper-get-key", "key-keeper-rejects-alg-none", "key-keeper-rejects-unknown-kid", "scenario-transfer-completed"]) {
                assert.ok(ids.includes(id), `${id} ran`);
            }
            assert.deepEqual(new Set(report.results.map((r) => r.step)), new Set(["5", "5,11", "11", "2", "1,6,7", "1,6", "12", "13", "14", "15", "16"]));
            // Every check reported its start and its end once.
            for (const id of ids) {
                assert.equal(events.filter((e) => e.check === id && e.state === "start").length, 1, id);
                assert.equal(events.filter((e) => e.check === id && e.state === "done").length, 1, id);
            }
            assert.ok(env.dcm.customerSecrets.length === 1, "the scenario reached step 14");
            assertNoSecret(env, JSON.stringify({ report, events }));
        });
    });

    it("runs independent checks concurrently: the key keeper sees its checks' requests at once", async () => {
        // A slow key keeper makes the eleven key-keeper checks overlap if, and only if, they run concurrently.
        await withEnv({ faults: { keyKeeper: { latencyMs: 300 } } }, async (env) => {
            const report = await run(env, { only: ["key-keeper-*"] });
            assert.equal(report.passed, true, JSON.stringify(failed(report)));
            assert.ok(env.maxInFlight.keyKeeper >= 6, `at most ${env.maxInFlight.keyKeeper} at once`);
        });
    });
});

describe("runChecks catches each fault in its own check", { concurrency: 4 }, () => {
    const cases: { name: string; options: EnvOptions; fails: Record<string, RegExp>; notRun?: Record<string, RegExp>; only?: string[]; exact?: boolean; deadlineMs?: number; timeoutMs?: number }[] = [
        { name: "an expired certificate", options: { certs: { backoffice: "expired" } }, fails: { "https-backoffice": /certificate expired on \d{4}-/ }, exact: false },
        { name: "a certificate expiring within 14 days", options: { certs: { api: "soon" } }, fails: { "https-api": /expires on \d{4}-\d\d-\d\d, in [23] days \(fewer than 14\)/ } },
        { name: "a certificate not yet valid", options: { certs: { api: "not-yet-valid" } }, fails: { "https-api": /not valid before/ }, exact: false, deadlineMs: 2500 },
        { name: "a certificate for the wrong host", options: { certs: { api: "wrong-host" } }, fails: { "https-api": /not valid for api-demo-integrate\.dcm\.example\.com: it names DNS:wrong-host\.example\.com/ }, exact: false, deadlineMs: 2500 },
        { name: "a certificate from an unknown CA", options: { certs: { backoffice: "untrusted" } }, fails: { "https-backoffice": /does not chain to a trusted root/ }, exact: false },
        { name: "missing HSTS", options: { faults: { backoffice: { noHsts: true } } }, fails: { "hsts-backoffice": /no Strict-Transport-Security header/ } },
        { name: "a short HSTS max-age", options: { faults: { api: { hstsMaxAge: 300 } } }, fails: { "hsts-api": /max-age is 300 s/ } },
        { name: "plain HTTP not redirecting", options: { faults: { plain: { noRedirect: true } } }, fails: { "http-redirect-backoffice": /answered 200 instead of redirecting/, "http-redirect-api": /answered 200/ } },
        { name: "plain HTTP redirecting to plain HTTP", options: { faults: { plain: { redirectTo: "http://elsewhere.example/" } } }, fails: { "http-redirect-backoffice": /redirects to 'http:\/\/elsewhere/, "http-redirect-api": /redirects to/ } },
        { name: "the Kratos admin API exposed", options: { faults: { backoffice: { adminExposed: true } } }, fails: { "kratos-admin-hidden": /Kratos admin answers from outside: GET \/\.ory\/admin\/identities -> 200/ } },
        { name: "no HTML frontend", options: { faults: { backoffice: { noHtml: true } } }, fails: { "frontend-html": /content type is 'application\/json'/ } },
        { name: "Kratos with a wrong public base URL", options: { faults: { backoffice: { kratosBaseUrl: "http://127.0.0.1:4433" } } }, fails: { "kratos-login-flow": /posts to 'http:\/\/127\.0\.0\.1:4433\/self-service\/login'/ } },
        { name: "Kratos not ready (503 until the deadline)", options: { faults: { backoffice: { kratosDown: true } } }, fails: { "kratos-health": /answered 503 \(gave up at the deadline after \d+ attempts\)/ }, deadlineMs: 2500, timeoutMs: 8000,
            // A short deadline for the backoffice checks only: the key keeper's must not race it on a loaded machine.
            only: ["frontend-html", "kratos-*"] },
        { name: "a JWKS without the stack's kid", options: { faults: { api: { jwks: { keys: [{ kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", kid: "other" }] } } } }, fails: { jwks: /no key with kid .* \(kids: other\)/, "key-keeper-get-key": /answered 401 to DCM's valid token/ } },
        { name: "a JWKS publishing a private key", options: { faults: { api: { jwks: { keys: [{ kty: "EC", crv: "P-256", x: "a", y: "b", d: "c", kid: "k" }] } } } }, fails: { jwks: /publishes private key material/, "key-keeper-get-key": /answered 401/ } },
        // jwks-503: the JWKS pod down. The edge still presents the certificate and sets HSTS on its 503, so
        // only the JWKS check fails, naming the fault; the key keeper, which verifies DCM's tokens with that
        // JWKS, cannot be judged meanwhile: its checks are not run, saying why.
        { name: "jwks-503: the JWKS server down", options: { faults: { api: { jwksDown: true } } }, deadlineMs: 5000,
            fails: { jwks: /^the JWKS server answered 503 to GET https:\/\/api-demo-integrate\.dcm\.example\.com\/\.well-known\/jwks\.json \(gave up at the deadline after \d+ attempts\)$/ },
            // Those whose token the reference key keeper must verify with DCM's key; the others it refuses unread.
            notRun: Object.fromEntries(["key-keeper-get-key", "key-keeper-rejects-tampered-signature", "key-keeper-rejects-unknown-kid", "key-keeper-rejects-replayed-jti"].map((id) => [id,
                /^not run: DCM's JWKS at https:\/\/api-demo-integrate\.dcm\.example\.com\/\.well-known\/jwks\.json answers 503, so the key keeper cannot verify DCM's tokens \(see jwks\); GET https:\/\/keykeeper\.demo-bank\.example\/api\/key answered 503 \(until the deadline, \d+ attempts\)$/])) },
    ];
    for (const c of cases) {
        it(c.name, async () => {
            await withEnv(c.options, async (env) => {
                const report = await run(env, { ...(c.deadlineMs ? { deadlineMs: c.deadlineMs } : {}), ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}), ...(c.only ? { only: c.only } : {}) });
                const got = failed(report);
                for (const [id, reason] of Object.entries(c.fails)) assert.match(got[id] ?? "(passed)", reason, `${id}: ${got[id] ?? "(passed)"}`);
                for (const [id, reason] of Object.entries(c.notRun ?? {})) {
                    const r = report.results.find((x) => x.id === id);
                    assert.equal(r?.status, "skip", `${id}: ${r?.status} ${r?.reason ?? ""}`);
                    assert.match(r.reason ?? "", reason);
                }
                if (c.exact !== false) assert.deepEqual(Object.keys(got).sort(), Object.keys(c.fails).sort());
                assert.equal(report.passed, false);
            });
        });
    }

    it("a jwks document under the right kid but for another key", async () => {
        const other = await stackMaterial();
        const env = await startEnvironment({});
        try {
            env.faults.api.jwks = { keys: [{ ...other.jwks.keys[0], kid: env.material.kid }] };
            const report = await run(env, { only: ["jwks"] });
            assert.match(failed(report).jwks, /not the stack's public key/);
        } finally {
            await env.close();
        }
    });
});

describe("runChecks against the bank's key keeper answers", () => {
    it("fails GET /key when it returns one user only", async () => {
        await withEnv({}, async (env) => {
            const report = await withEnv({ material: env.material, keyKeeperUsers: env.material.users.slice(0, 1) }, (e) => run(e, { only: ["key-keeper-*"] }));
            assert.deepEqual(Object.keys(failed(report)), ["key-keeper-get-key"]);
            assert.match(failed(report)["key-keeper-get-key"], /returned 1 user\(s\), expected exactly 2 \(dcm-demo-identification, dcm-demo-processing\)/);
        });
    });

    it("fails GET /key on a wrong secret, naming the user and never showing either secret", async () => {
        const material = await stackMaterial();
        const wrong = [material.users[0], { username: material.users[1].username, secret: "CANARY-wrong-secret-0123456789" }];
        await withEnv({ material, keyKeeperUsers: wrong }, async (env) => {
            const report = await run(env, { only: ["key-keeper-get-key"] });
            assert.match(failed(report)["key-keeper-get-key"], /the secret for dcm-demo-processing \(processing\) differs from the seeded one/);
            assertNoSecret(env, JSON.stringify(report));
        });
    });

    it("fails GET /key when the key keeper serves an extra user", async () => {
        const material = await stackMaterial();
        await withEnv({ material, keyKeeperUsers: [...material.users, { username: "intruder", secret: "CANARY-x-123456" }] }, async (env) => {
            const report = await run(env, { only: ["key-keeper-get-key"] });
            assert.match(failed(report)["key-keeper-get-key"], /returned 3 user\(s\)/);
        });
    });
});

describe("runChecks retries transient failures", () => {
    it("recovers from 5xx answers, reporting the retries", async () => {
        await withEnv({ faults: { backoffice: { fail5xx: 4 }, keyKeeper: { fail5xx: 3 } } }, async (env) => {
            const retries: ProgressEvent[] = [];
            const report = await run(env, { onProgress: (e) => e.state === "retry" && retries.push(e) });
            assert.deepEqual(failed(report), {});
            assert.ok(retries.length >= 4, `retries: ${retries.length}`);
            assert.ok(retries.every((e) => /answered 503/.test(e.reason ?? "")), JSON.stringify(retries));
        });
    });

    it("recovers from connection refused while the key keeper starts", async () => {
        await withEnv({ startLate: { role: "keyKeeper", ms: 700 } }, async (env) => {
            const retries: ProgressEvent[] = [];
            const report = await run(env, { only: ["key-keeper-*"], onProgress: (e) => e.state === "retry" && retries.push(e) });
            assert.deepEqual(failed(report), {});
            assert.ok(retries.some((e) => /connection refused/.test(e.reason ?? "")));
        });
    });

    it("gives up at the deadline when connections stay refused, saying so once for the host", async () => {
        await withEnv({ startLate: { role: "keyKeeper", ms: 60_000 } }, async (env) => {
            const report = await run(env, { only: ["key-keeper-get-key"], deadlineMs: 1200 });
            assert.deepEqual(Object.keys(failed(report)), ["reach-keykeeper.demo-bank.example:443"]);
            assert.match(failed(report)["reach-keykeeper.demo-bank.example:443"], /connection refused \(gave up at the deadline after \d+ attempts\); 1 check not run$/);
            assert.equal(report.results.find((r) => r.id === "key-keeper-get-key")?.reason, "not run: keykeeper.demo-bank.example:443 is unreachable");
        });
    });

    it("times out a slow answer per attempt, and passes a slow answer within the timeout", async () => {
        await withEnv({ faults: { keyKeeper: { latencyMs: 600 } } }, async (env) => {
            const slow = await run(env, { only: ["key-keeper-get-key"], timeoutMs: 250, deadlineMs: 900 });
            assert.match(failed(slow)["key-keeper-get-key"], /no answer within \d+ ms|timed out after \d+ ms/);
            const patient = await run(env, { only: ["key-keeper-get-key"], timeoutMs: 8000 });
            assert.deepEqual(failed(patient), {});
        });
    });
});

describe("runChecks when a host is down or DCM's API upstream is", () => {
    it("says once that the api host is unreachable and does not run the checks that need it; the others pass", async () => {
        const material = await stackMaterial();
        // The key keeper holds DCM's key as a PEM, so it does not need the (down) api host's JWKS.
        const verify = await createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem });
        await withEnv({ material, verify, startLate: { role: "api", ms: 60_000 } }, async (env) => {
            const report = await run(env, { skip: [], deadlineMs: 4000 });
            const host = "api-demo-integrate.dcm.example.com:443";
            const notRun = report.results.filter((r) => r.reason === `not run: ${host} is unreachable`).map((r) => r.id);
            assert.deepEqual(Object.keys(failed(report)), [`reach-${host}`], JSON.stringify(failed(report)));
            assert.match(failed(report)[`reach-${host}`], new RegExp(`connection refused \\(gave up at the deadline after \\d+ attempts\\); ${notRun.length} checks not run$`));
            assert.deepEqual(notRun.filter((id) => !id.startsWith("scenario-")), ["https-api", "hsts-api", "jwks"]);
            assert.ok(notRun.filter((id) => id.startsWith("scenario-")).length >= 5);
            assert.deepEqual(report.unreachable?.map((u) => [u.host, u.checks.length]), [[host, notRun.length]]);
            // The reach row comes first, once.
            assert.equal(report.results[0].id, `reach-${host}`);
            assert.equal(report.results.filter((r) => r.id.startsWith("reach-")).length, 1);
            assert.equal(report.results.find((r) => r.id === "key-keeper-get-key")?.status, "pass");
            assert.equal(report.passed, false);
        });
    });

    it("checks the api host's HTTPS and HSTS on its JWKS path, so a down DCM API upstream does not fail them", async () => {
        await withEnv({ faults: { api: { upstreamDown: true } } }, async (env) => {
            const report = await run(env, { only: ["https-api", "hsts-api"], deadlineMs: 5000 });
            assert.deepEqual(failed(report), {});
            assert.equal(report.results.length, 2);
        });
    });
});

describe("kratos-admin-hidden judges what an answer reveals, not its status", { concurrency: 4 }, () => {
    const adminUrl = "http://kratos-admin.bank-demo-integrate.svc.cluster.local:4434";
    const cases: { name: string; options: EnvOptions; fails?: RegExp }[] = [
        { name: "a single-page frontend answering 200 with its index.html everywhere passes", options: { faults: { backoffice: { spaFallback: true } } } },
        { name: "a 404 in Kratos' error shape passes", options: { faults: { backoffice: { adminAnswer: { status: 404, body: JSON.stringify({ error: { code: 404, status: "Not Found", message: "The requested resource could not be found" } }) } } } } },
        { name: "identities behind a 403 fail", options: { faults: { backoffice: { adminAnswer: { status: 403, body: JSON.stringify([{ id: "4c5f", schema_id: "default", traits: { email: "a@b.example" } }]) } } } }, fails: /GET \/\.ory\/admin\/identities -> 403 answers Kratos admin JSON/ },
        { name: "an error page naming the in-cluster admin URL fails", options: { faults: { backoffice: { adminAnswer: { status: 502, contentType: "text/html", body: `<html>upstream ${adminUrl}/admin/identities failed</html>` } } } }, fails: /-> 502 names the in-cluster admin URL/ },
        { name: "a redirect to the in-cluster admin URL fails", options: { faults: { backoffice: { adminAnswer: { status: 302, contentType: "text/html", body: "", location: `${adminUrl}/admin/identities` } } } }, fails: /-> 302 redirects to the in-cluster admin URL/ },
        { name: "Kratos admin's health answering fails", options: { faults: { backoffice: { adminAnswer: { status: 200, body: JSON.stringify({ status: "ok" }) } } } }, fails: /GET \/\.ory\/admin\/health\/ready -> 200 answers Kratos admin's health endpoint/ },
    ];
    for (const c of cases) {
        it(c.name, async () => {
            await withEnv(c.options, async (env) => {
                const report = await run(env, { only: ["kratos-admin-hidden", "frontend-html"], deadlineMs: 5000 });
                if (c.fails) assert.match(failed(report)["kratos-admin-hidden"] ?? "(passed)", c.fails);
                else assert.deepEqual(failed(report), {});
            });
        });
    }

    it("a refused connection exposes nothing: the api host down does not fail it", async () => {
        await withEnv({ startLate: { role: "api", ms: 60_000 }, faults: { backoffice: { spaFallback: true } } }, async (env) => {
            const report = await run(env, { only: ["kratos-admin-hidden"], deadlineMs: 5000 });
            assert.deepEqual(failed(report), {});
            assert.equal(report.results[0].status, "pass");
        });
    });

    it("a host that refuses, has no DNS name or no route exposes nothing; a timeout is retried, not taken for an answer", async () => {
        const facts = stackFacts((await stackMaterial()).outputs);
        const check = backofficeChecks().find((c) => c.id === "kratos-admin-hidden")!;
        const spa = { status: 200, headers: { "content-type": "text/html" }, body: "<!doctype html><html><body><div id=app></div></body></html>" };
        const answering = (apiError: Error) => ({
            stack: "demo", facts, addSecret: () => undefined, reveals: () => false,
            http: { request: async (url: string) => { if (url.startsWith(facts.apiUrl)) throw apiError; return spa; } } as unknown as HttpClient,
        });
        for (const code of ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH"]) {
            await check.attempt(answering(new TransientFailure(`GET ${facts.apiUrl}/admin/identities: ${code}`, code)), 1000);
        }
        await assert.rejects(check.attempt(answering(new TransientFailure("no answer within 1000 ms")), 1000), TransientFailure);
    });

    it("is not run, with the other backoffice checks, when the backoffice host is unreachable", async () => {
        await withEnv({ startLate: { role: "backoffice", ms: 60_000 } }, async (env) => {
            const report = await run(env, { only: ["kratos-admin-hidden"], deadlineMs: 1200 });
            assert.match(report.results.find((r) => r.id === "kratos-admin-hidden")?.reason ?? "", /^not run: backoffice-demo-integrate\.dcm\.example\.com:443 is unreachable$/);
        });
    });
});

describe("the key keeper's certificate", () => {
    it("passes with a warning when it expires within 14 days", async () => {
        await withEnv({ certs: { keyKeeper: "soon" } }, async (env) => {
            const report = await run(env, { only: ["https-key-keeper", "key-keeper-get-key"] });
            assert.equal(report.passed, true, JSON.stringify(failed(report)));
            const cert = report.results.find((r) => r.id === "https-key-keeper");
            assert.match(cert?.warning ?? "", /^the key keeper's certificate expires on \d{4}-\d\d-\d\d, in [23] days \(fewer than 14\)$/);
        });
    });

    it("fails when it does not chain to a trusted root", async () => {
        await withEnv({ certs: { keyKeeper: "untrusted" } }, async (env) => {
            const report = await run(env, { only: ["https-key-keeper"] });
            assert.match(failed(report)["https-key-keeper"], /the key keeper's certificate does not chain to a trusted root/);
        });
    });
});

describe("runChecks selection and input", () => {
    it("--only and --skip take ids and prefix*; a pattern naming no check is an input error", async () => {
        await withEnv({}, async (env) => {
            const only = await run(env, { only: ["hsts-*", "jwks"] });
            assert.deepEqual(only.results.map((r) => r.id), ["hsts-backoffice", "hsts-api", "jwks"]);
            const skip = await run(env, { only: ["key-keeper-*"], skip: ["key-keeper-rejects-*"] });
            assert.deepEqual(skip.results.map((r) => r.id), ["key-keeper-get-key"]);
            await assert.rejects(run(env, { only: ["nope"] }), (e: unknown) => e instanceof InputError && /--only: 'nope' names no check/.test(e.message));
        });
    });

    it("masks a user's password that the API echoes into a failing assertion", async () => {
        await withEnv({ dcm: { echoPassword: true } }, async (env) => {
            const report = await run(env, { skip: [], only: ["scenario-*"] });
            const reason = failed(report)["scenario-create-identifier-request"];
            // The answered value is not quoted (the API may answer anything), only its shape.
            assert.match(reason, /\$\.status is a string of \d+ characters, expected "pending"/);
            assert.deepEqual(report.results.filter((r) => r.status === "skip").map((r) => r.id).length, 5);
            assertNoSecret(env, JSON.stringify(report));
        });
    });

    it("reports a scenario step whose expectation fails, naming the JSON path and both values", async () => {
        // The shipped scenario, polling faster and shorter.
        const fast = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "scenario-")), "fast.yaml");
        fs.writeFileSync(fast, fs.readFileSync(DEFAULT_SCENARIO, "utf8").replace(/every: 1s, for: \d+m/g, "every: 100ms, for: 1s"));
        await withEnv({ dcm: { transferAmount: "9.99" } }, async (env) => {
            const report = await run(env, { skip: [], only: ["scenario-*"], scenarioFile: fast });
            assert.match(failed(report)["scenario-transfer-completed"], /\$\.amount is a string of 4 characters, expected "10\.00" \(still, after polling for \d+ ms\)/);
        });
    });
});
