/**
 * The reference key keeper passes every key-keeper check (JWKS and PEM modes, ES and RSA keys); each
 * deliberately broken variant is caught by the failing check that names its hole, and only by it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as jose from "jose";
import { runChecks } from "../../../scripts/lib/checks";
import { main } from "../../../reference/key-keeper/main";
import { createKeyKeeperServer } from "../../../reference/key-keeper/server";
import { parseUsers } from "../../../reference/key-keeper/users";
import { createTokenVerifier, DCM_ISSUER, FileReplayStore, KeySourceUnavailable, Rejection } from "../../../reference/key-keeper/verifier";
import { dcmToken, FORGERIES } from "../../../scripts/lib/checks/jwt";
import { stackFacts } from "../../../scripts/lib/checks/outputs";
import { LoopbackEnv, startEnvironment } from "../../../support/checks/environment";
import { KEY_KEEPER_KEY_URL, StackMaterial, stackMaterial } from "../../../support/checks/stack";
import { Hole, HOLES, looseVerifier } from "./broken-verifiers";
import { PROJECT_ROOT } from "../../../domain/project";

const KEY_KEEPER_CHECKS = ["key-keeper-*"];

async function keyKeeperFailures(options: Parameters<typeof startEnvironment>[0]): Promise<Record<string, string>> {
    const env = await startEnvironment(options);
    try {
        const report = await runChecks({ stack: "demo", outputs: env.outputs, resolve: env.resolve, caPem: [env.caPem], only: KEY_KEEPER_CHECKS, deadlineMs: 20_000, timeoutMs: 8000 });
        assert.equal(report.results.length, ALL_REJECTIONS.length + 1);
        return Object.fromEntries(report.results.filter((r) => r.status === "fail").map((r) => [r.id, r.reason ?? ""]));
    } finally {
        await env.close();
    }
}

/** Every key-keeper-rejects-* check: one per forgery, and the replay. */
const ALL_REJECTIONS = [...FORGERIES, "replayed-jti"];

/** The checks each hole must fail (a hole may open more than one door). */
const CAUGHT_BY: Record<Hole, string[]> = {
    "no-auth": ALL_REJECTIONS,
    "accepts-alg-none": ["alg-none"],
    "none-any-case": ["alg-none-uppercase", "alg-none-capitalized"],
    "hs256-confusion": ["hs256-confusion"],
    "skips-signature": ["tampered-signature", "empty-signature", "other-key"],
    "accepts-empty-signature": ["empty-signature"],
    "trusts-jwk-header": ["other-key"],
    "ignores-key-urls": ["jku-header", "x5u-header"],
    "any-typ": ["wrong-typ"],
    "skips-expiry": ["expired", "no-exp"],
    "exp-optional": ["no-exp"],
    "no-lifetime-limit": ["long-lifetime"],
    "skips-nbf": ["not-yet-valid"],
    "any-audience": ["wrong-audience"],
    "any-issuer": ["wrong-issuer"],
    "ignores-kid": ["unknown-kid"],
    "jti-optional": ["no-jti"],
    "no-replay-check": ["replayed-jti"],
    "ignores-htu": ["other-url", "no-htu"],
    "htu-optional": ["no-htu"],
    "ignores-htm": ["wrong-htm"],
};

describe("the reference key keeper", () => {
    it("passes every key-keeper check, verifying against the published JWKS", async () => {
        assert.deepEqual(await keyKeeperFailures({}), {});
    });

    for (const alg of ["RS256", "ES384"] as const) {
        it(`passes every key-keeper check with a PEM and ${alg}`, async () => {
            const material = await stackMaterial(alg);
            const verify = await createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", algorithms: [alg], publicKeyPem: material.publicKeyPem });
            assert.deepEqual(await keyKeeperFailures({ material, verify }), {});
        });
    }

    describe("over HTTP, directly", () => {
        let material: StackMaterial;
        let env: LoopbackEnv;
        before(async () => {
            material = await stackMaterial();
            env = await startEnvironment({ material });
        });
        after(() => env.close());

        async function get(token?: string, path = "/api/key") {
            const verify = await createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem });
            const server = createKeyKeeperServer({ verify, users: material.users, basePath: "/api" });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
            try {
                const port = (server.address() as { port: number }).port;
                const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
                return { status: res.status, body: await res.text(), headers: res.headers };
            } finally {
                await new Promise<void>((r) => server.close(() => r()));
            }
        }

        it("answers the users for DCM's token and 401 without a reason or a secret otherwise", async () => {
            const facts = stackFacts(material.outputs);
            const ok = await get(await dcmToken(facts));
            assert.equal(ok.status, 200);
            assert.deepEqual(JSON.parse(ok.body), { users: material.users });
            assert.equal(ok.headers.get("cache-control"), "no-store");
            const refused = await get("a.b.c");
            assert.equal(refused.status, 401);
            assert.deepEqual(JSON.parse(refused.body), { error: "invalid_token" });
            assert.match(refused.headers.get("www-authenticate") ?? "", /invalid_token/);
            assert.equal((await get(undefined, "/key")).status, 404);
        });

        it("refuses a token that lives longer than 5 minutes, and a replayed jti", async () => {
            const verify = await createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem });
            const key = await jose.importPKCS8(String(material.outputs.signingPrivateKeyPem), "ES256");
            const long = await new jose.SignJWT({ htm: "GET", htu: KEY_KEEPER_KEY_URL, jti: "j-1" }).setProtectedHeader({ alg: "ES256", kid: material.kid, typ: "JWT" })
                .setIssuer(DCM_ISSUER).setAudience("demo").setIssuedAt().setExpirationTime("10m").sign(key);
            await assert.rejects(verify(`Bearer ${long}`), /lifetime over 300 s/);
            const once = await new jose.SignJWT({ htm: "GET", htu: KEY_KEEPER_KEY_URL, jti: "j-2" }).setProtectedHeader({ alg: "ES256", kid: material.kid, typ: "JWT" })
                .setIssuer(DCM_ISSUER).setAudience("demo").setIssuedAt().setExpirationTime("2m").sign(key);
            await verify(`Bearer ${once}`);
            await assert.rejects(verify(`Bearer ${once}`), /jti replayed/);
            const noJti = await new jose.SignJWT({ htm: "GET", htu: KEY_KEEPER_KEY_URL }).setProtectedHeader({ alg: "ES256", kid: material.kid, typ: "JWT" })
                .setIssuer(DCM_ISSUER).setAudience("demo").setIssuedAt().setExpirationTime("2m").sign(key);
            await assert.rejects(verify(`Bearer ${noJti}`), /jti/);
        });

        it("refuses a token naming or carrying a key (jku, x5u, jwk, x5c), and one whose typ is not JWT, even when DCM's key signed it", async () => {
            const verify = await createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem });
            const key = await jose.importPKCS8(String(material.outputs.signingPrivateKeyPem), "ES256");
            const token = (header: Record<string, unknown>) => new jose.SignJWT({ htm: "GET", htu: KEY_KEEPER_KEY_URL, jti: crypto.randomUUID() })
                .setProtectedHeader({ alg: "ES256", kid: material.kid, typ: "JWT", ...header })
                .setIssuer(DCM_ISSUER).setAudience("demo").setIssuedAt().setExpirationTime("2m").sign(key);
            for (const name of ["jku", "x5u"]) await assert.rejects(verify(`Bearer ${await token({ [name]: "https://keys.attacker.example/k" })}`), new RegExp(`a ${name} header`));
            await assert.rejects(verify(`Bearer ${await token({ x5c: ["MIIB"] })}`), /a x5c header/);
            await assert.rejects(verify(`Bearer ${await token({ typ: "dpop+jwt" })}`), /typ/);
            await assert.rejects(verify(`Bearer ${await token({ typ: undefined })}`), /typ/);
            // typ as RFC 7515 compares it: case-insensitive, with or without "application/".
            await verify(`Bearer ${await token({ typ: "application/jwt" })}`);
            await verify(`Bearer ${await token({})}`);
        });

        it("takes a JWKS answering 503 for its own problem (503 to DCM, which retries), not for a bad token (401)", async () => {
            const port = Number(env.resolve.find((r) => r.startsWith(`${new URL(String(material.outputs.jwksUrl)).hostname}:443:`))!.split(":").pop());
            const verify = await createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", jwksUrl: String(material.outputs.jwksUrl), jwksCa: [env.caPem], jwksConnectTo: { host: "127.0.0.1", port } });
            const token = `Bearer ${await dcmToken(stackFacts(material.outputs))}`;
            env.faults.api.jwksDown = true;
            try {
                await assert.rejects(verify(token), (e: unknown) => e instanceof KeySourceUnavailable && !(e instanceof Rejection) && /the JWKS at https:\/\/api-/.test(e.message));
            } finally {
                env.faults.api.jwksDown = false;
            }
            // The same token, once the JWKS is back: the outage was not remembered as a refusal.
            assert.equal((await verify(token)).aud, "demo");
        });

        it("will not be configured with alg none or an HMAC algorithm", async () => {
            await assert.rejects(createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem, algorithms: ["ES256", "HS256"] }), /must not include HS256/);
            await assert.rejects(createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem, algorithms: ["none"] }), /must not include none/);
        });
    });

    it("its command exits 2 on bad usage, naming what is missing", async () => {
        const run = async (argv: string[]) => {
            let err = "";
            const code = await main(argv, { write: (t: string) => { err += t; } });
            return { code, err };
        };
        const none = await run([]);
        assert.equal(none.code, 2);
        assert.match(none.err, /--audience is required\n--url is required .*\n--replay-dir is required .*\ngive exactly one of --jwks-url and --public-key/);
        const both = await run(["--audience", "demo", "--url", KEY_KEEPER_KEY_URL, "--replay-dir", os.tmpdir(), "--jwks-url", "https://x", "--public-key", "k.pem", "--tls-cert", "c.pem"]);
        assert.match(both.err, /give exactly one of --jwks-url and --public-key\n--tls-cert and --tls-key go together/);
        assert.equal((await run(["--nope"])).code, 2);
    });

    it("--help states its exit codes, and the command exits with each as stated", async () => {
        let out = "";
        let err = "";
        const write = { write: (t: string) => { err += t; } };
        assert.equal(await main(["--help"], write, { write: (t: string) => { out += t; } }), 0);
        assert.match(out.replace(/\s+/g, " "), / Exit codes: 0 stopped by SIGINT or SIGTERM \(or --help printed\); 1 it could not listen \(the port is taken, [^)]*\); 2 bad usage or invalid input \(/);
        const material = await stackMaterial();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "key-keeper-"));
        const bound = ["--url", KEY_KEEPER_KEY_URL, "--replay-dir", path.join(dir, "replay")];
        const pem = path.join(dir, "dcm.pem");
        fs.writeFileSync(pem, material.publicKeyPem);
        const users = path.join(dir, "users.json");
        fs.writeFileSync(users, JSON.stringify({ users: material.users }));
        // 2: invalid input, every problem at once, naming the option.
        err = "";
        assert.equal(await main(["--audience", "demo", ...bound, "--public-key", path.join(dir, "none.pem"), "--users", path.join(dir, "none.json")], write), 2);
        assert.match(err, /^--public-key: cannot read .*none\.pem \(ENOENT\)\n--users: cannot read .*none\.json \(ENOENT\)\n$/);
        err = "";
        assert.equal(await main(["--audience", "demo", ...bound, "--public-key", users, "--users", users], write), 2);
        assert.match(err, /^--public-key: .*users\.json is not an SPKI public key for ES256/);
        assert.ok(!err.includes("CANARY"), "a user's secret was printed");
        // 1: the port is taken.
        const taken = http.createServer();
        await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
        const port = (taken.address() as AddressInfo).port;
        try {
            err = "";
            assert.equal(await main(["--audience", "demo", ...bound, "--public-key", pem, "--users", users, "--port", String(port)], write), 1);
            assert.equal(err, `key keeper: cannot listen on 127.0.0.1:${port} (EADDRINUSE)\n`);
        } finally {
            await new Promise<void>((r) => taken.close(() => r()));
        }
        // 0: serving until SIGTERM (a child process: the signal must not reach the test runner).
        const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "reference/key-keeper/main.ts"),
            "--audience", "demo", ...bound, "--public-key", pem, "--users", users, "--port", "0"], { cwd: PROJECT_ROOT, stdio: ["ignore", "ignore", "pipe"] });
        const exited = new Promise<number | null>((r) => child.on("close", r));
        let started = "";
        await new Promise<void>((r) => child.stderr.on("data", (d: Buffer) => { started += d; if (/key keeper: 2 users, GET http:\/\/127\.0\.0\.1:\d+\/key/.test(started)) r(); }));
        child.kill("SIGTERM");
        const code = await exited;
        assert.equal(code, 0, `${code} ${child.signalCode} ${started}`);
    });

    it("refuses a token DCM made for another URL or method, and one naming none (htu, htm)", async () => {
        const material = await stackMaterial();
        const facts = stackFacts(material.outputs);
        const verify = await createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem });
        await verify(`Bearer ${await dcmToken(facts)}`);
        await assert.rejects(verify(`Bearer ${await dcmToken(facts, { htu: "https://keys.attacker.example/keeper/key" })}`), /htu names another URL/);
        // The same host and path with a query is the same target (RFC 9449: no query in htu comparisons).
        await verify(`Bearer ${await dcmToken(facts, { htu: `${KEY_KEEPER_KEY_URL}?x=1` })}`);
        await assert.rejects(verify(`Bearer ${await dcmToken(facts, { htu: KEY_KEEPER_KEY_URL.replace("/api/key", "/other/key") })}`), /htu/);
        await assert.rejects(verify(`Bearer ${await dcmToken(facts, { omit: ["htu"] })}`), /htu/);
        await assert.rejects(verify(`Bearer ${await dcmToken(facts, { htm: "POST" })}`), /htm is not GET/);
        await assert.rejects(createTokenVerifier({ url: "not a url", audience: "demo", publicKeyPem: material.publicKeyPem }), /url must be/);
    });

    it("keeps accepted jti in a store replicas share and a restart keeps (FileReplayStore): a token is accepted once", async () => {
        const material = await stackMaterial();
        const facts = stackFacts(material.outputs);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "key-keeper-replay-"));
        try {
            const replica = () => createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem, replayStore: new FileReplayStore(dir) });
            const [a, b] = await Promise.all([replica(), replica()]);
            const token = `Bearer ${await dcmToken(facts)}`;
            await a(token);
            await assert.rejects(b(token), /jti replayed/, "another replica refuses it");
            const restarted = await replica();
            await assert.rejects(restarted(token), /jti replayed/, "the process after a restart refuses it");
            // Two replicas racing on one fresh token: exactly one accepts.
            const fresh = `Bearer ${await dcmToken(facts)}`;
            const raced = await Promise.allSettled([a(fresh), b(fresh)]);
            assert.equal(raced.filter((r) => r.status === "fulfilled").length, 1);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("escapes every logged value: a kid with a line break cannot forge a log line", async () => {
        const material = await stackMaterial();
        const facts = stackFacts(material.outputs);
        const lines: string[] = [];
        const verify = await createTokenVerifier({ url: KEY_KEEPER_KEY_URL, audience: "demo", publicKeyPem: material.publicKeyPem });
        const server = createKeyKeeperServer({ verify, users: material.users, basePath: "/api", log: (l) => lines.push(l) });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        try {
            const port = (server.address() as AddressInfo).port;
            const forged = "x\n2026-01-01T00:00:00.000Z GET /api/key 200 jti=forged\u2028\u0085\u202e";
            const res = await fetch(`http://127.0.0.1:${port}/api/key`, { headers: { authorization: `Bearer ${await dcmToken(facts, { kid: forged })}` } });
            assert.equal(res.status, 401);
            assert.equal(lines.length, 1);
            assert.match(lines[0], /^GET \/api\/key 401 unknown kid x\\u000a2026/);
            assert.doesNotMatch(lines[0], /[\n\r\u2028\u2029\u0085\u202e]/);
        } finally {
            await new Promise<void>((r) => server.close(() => r()));
        }
    });

    it("reads users from its file format and from the stack's outputs, naming a bad field", () => {
        assert.deepEqual(parseUsers(JSON.stringify({ users: [{ username: "u", secret: "s" }] }), "f"), [{ username: "u", secret: "s" }]);
        assert.deepEqual(parseUsers(JSON.stringify({ keyKeeperUsernames: { identification: "a" }, keyKeeperPasswords: { identification: "b" } }), "f"), [{ username: "a", secret: "b" }]);
        assert.throws(() => parseUsers(JSON.stringify({ users: [{ username: "u" }] }), "users.json"), /users\.json: users\[0\]\.secret must be a non-empty string/);
        assert.throws(() => parseUsers("{", "users.json"), /users\.json: not JSON/);
    });
});

describe("broken key keepers are each caught", { concurrency: 3 }, () => {
    let material: StackMaterial;
    before(async () => {
        material = await stackMaterial();
    });

    it("a hand-rolled verifier with no hole passes every check (the checks fail only for a hole)", async () => {
        const verify = await looseVerifier(material.publicKeyPem, "ES256", "demo");
        assert.deepEqual(await keyKeeperFailures({ material, verify }), {});
    });

    for (const hole of HOLES) {
        it(`${hole}: fails ${CAUGHT_BY[hole].map((c) => `key-keeper-rejects-${c}`).join(", ")}`, async () => {
            const verify = await looseVerifier(material.publicKeyPem, "ES256", "demo", hole);
            const failures = await keyKeeperFailures({ material, verify });
            assert.deepEqual(Object.keys(failures).sort(), CAUGHT_BY[hole].map((c) => `key-keeper-rejects-${c}`).sort());
            for (const reason of Object.values(failures)) assert.match(reason, /^accepted .* \(answered 200\)$/);
        });
    }
});
