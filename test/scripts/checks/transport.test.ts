/** The HTTP client's --resolve pinning and CA trust, and retries with backoff, deadline and timeouts. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { CheckFailure, InputError, TransientFailure } from "../../../scripts/lib/checks/errors";
import { HttpClient, parseResolve, trustedCas } from "../../../scripts/lib/checks/http";
import { withRetry } from "../../../scripts/lib/checks/retry";
import { createPki, Pki } from "../../../support/checks/pki";

describe("HttpClient", () => {
    let pki: Pki;
    let server: https.Server;
    let port: number;
    before(async () => {
        pki = await createPki();
        server = https.createServer(await pki.issue(["api-x.example.com"]), (req, res) => {
            res.end(JSON.stringify({ host: req.headers.host, path: req.url }));
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        port = (server.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it("parses curl-style entries, with an optional target port and bracketed IPv6", () => {
        const pins = parseResolve(["API.example.com:443:127.0.0.1", "b.example:80:[::1]:8080"]);
        assert.deepEqual(pins.get("api.example.com:443"), { address: "127.0.0.1", port: 443 });
        assert.deepEqual(pins.get("b.example:80"), { address: "::1", port: 8080 });
        for (const bad of ["a.example:443", "a.example:x:127.0.0.1", "a.example:443:localhost", "a.example:443:::1"]) {
            assert.throws(() => parseResolve([bad]), (e: unknown) => e instanceof InputError && e.field === "--resolve", bad);
        }
    });

    it("connects to the pinned address with the URL's host in SNI, Host and the certificate check", async () => {
        const client = new HttpClient([`api-x.example.com:443:127.0.0.1:${port}`], [pki.caPem]);
        const res = await client.request("https://api-x.example.com/a?b=1", { timeoutMs: 8000 });
        assert.deepEqual(JSON.parse(res.body), { host: "api-x.example.com", path: "/a?b=1" });
        const tls = await client.probeTls("https://api-x.example.com/", 8000);
        assert.equal(tls.authorized, true);
        assert.equal(tls.identityError, undefined);
    });

    it("refuses a certificate for another name and one from an untrusted CA, for good", async () => {
        const wrongName = new HttpClient([`other.example.com:443:127.0.0.1:${port}`], [pki.caPem]);
        await assert.rejects(wrongName.request("https://other.example.com/", { timeoutMs: 8000 }), (e: unknown) => e instanceof CheckFailure && /ERR_TLS_CERT_ALTNAME_INVALID/.test(e.message));
        const untrusted = new HttpClient([`api-x.example.com:443:127.0.0.1:${port}`]);
        await assert.rejects(untrusted.request("https://api-x.example.com/", { timeoutMs: 8000 }), CheckFailure);
        const probe = await untrusted.probeTls("https://api-x.example.com/", 8000);
        assert.equal(probe.authorized, false);
    });

    it("trusting an extra CA in one client leaves every other client's trust as it was", async () => {
        const trusting = new HttpClient([`api-x.example.com:443:127.0.0.1:${port}`], [pki.caPem]);
        await trusting.request("https://api-x.example.com/", { timeoutMs: 8000 });
        const plain = new HttpClient([`api-x.example.com:443:127.0.0.1:${port}`]);
        await assert.rejects(plain.request("https://api-x.example.com/", { timeoutMs: 8000 }), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|TLS/);
    });

    it("with --ca, still trusts the CAs of NODE_EXTRA_CA_CERTS (a key keeper behind a corporate CA)", async () => {
        // NODE_EXTRA_CA_CERTS is read when Node starts: the client runs in a child process started with it.
        const corporate = await createPki("Corporate CA");
        const other = await createPki("Stack CA");
        const server = https.createServer(await corporate.issue(["keykeeper.bank.example"]), (_req, res) => res.end("ok"));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "extra-ca-"));
        try {
            const extra = path.join(dir, "corporate.pem");
            fs.writeFileSync(extra, corporate.caPem);
            const pin = `keykeeper.bank.example:443:127.0.0.1:${(server.address() as AddressInfo).port}`;
            const script = (simulateOldNode: boolean) => `
                ${simulateOldNode ? "delete require('node:tls').getCACertificates;" : ""}
                const { HttpClient } = require(${JSON.stringify(path.resolve(__dirname, "../../../scripts/lib/checks/http"))});
                const client = new HttpClient([${JSON.stringify(pin)}], [${JSON.stringify(other.caPem)}]);
                client.request("https://keykeeper.bank.example/", { timeoutMs: 8000 }).then((r) => console.log("status " + r.status), (e) => console.log("error " + e.message));`;
            const run = (node: string, simulateOldNode: boolean) => new Promise<string>((resolve) => {
                const child = spawn(node, ["--require", "ts-node/register/transpile-only", "-e", script(simulateOldNode)], { env: { ...process.env, NODE_EXTRA_CA_CERTS: extra } });
                let text = "";
                child.stdout.on("data", (d: Buffer) => { text += d; });
                child.stderr.on("data", (d: Buffer) => { text += d; });
                child.on("close", () => resolve(text));
            });
            // This Node; this Node without tls.getCACertificates (as Node before 22.15); an older Node if the machine has one
            // (where a fresh secure context with addCACert loses NODE_EXTRA_CA_CERTS, nodejs/node#32010).
            const runs = [await run(process.execPath, false), await run(process.execPath, true)];
            if (fs.existsSync("/usr/bin/node") && fs.realpathSync("/usr/bin/node") !== fs.realpathSync(process.execPath)) runs.push(await run("/usr/bin/node", false));
            for (const out of runs) assert.match(out, /^status 200$/m, out);
        } finally {
            await new Promise<void>((r) => server.close(() => r()));
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("with --ca, still trusts the system store, also when Node uses OpenSSL's store (--use-openssl-ca)", async () => {
        // The system store is OpenSSL's default file; SSL_CERT_FILE points it at a CA of the test's own, a stand-in
        // for a public CA that only the machine's store holds. Read when Node starts: the client runs in a child.
        const system = await createPki("System store CA");
        const other = await createPki("Stack CA");
        const server = https.createServer(await system.issue(["keykeeper.bank.example"]), (_req, res) => res.end("ok"));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "system-ca-"));
        try {
            const store = path.join(dir, "ca-certificates.crt");
            fs.writeFileSync(store, system.caPem);
            const pin = `keykeeper.bank.example:443:127.0.0.1:${(server.address() as AddressInfo).port}`;
            const script = `
                const { HttpClient } = require(${JSON.stringify(path.resolve(__dirname, "../../../scripts/lib/checks/http"))});
                const client = new HttpClient([${JSON.stringify(pin)}], [${JSON.stringify(other.caPem)}]);
                client.request("https://keykeeper.bank.example/", { timeoutMs: 8000 }).then((r) => console.log("status " + r.status), (e) => console.log("error " + e.message));`;
            const run = (nodeFlags: string[]) => new Promise<string>((resolve) => {
                const child = spawn(process.execPath, [...nodeFlags, "--require", "ts-node/register/transpile-only", "-e", script], {
                    env: { ...process.env, SSL_CERT_FILE: store, SSL_CERT_DIR: dir, NODE_EXTRA_CA_CERTS: "" },
                });
                let text = "";
                child.stdout.on("data", (d: Buffer) => { text += d; });
                child.stderr.on("data", (d: Buffer) => { text += d; });
                child.on("close", () => resolve(text));
            });
            for (const flags of [["--use-openssl-ca"], ["--use-system-ca"], []]) {
                const out = await run(flags);
                assert.match(out, /^status 200$/m, `${flags.join(" ") || "no flag"}: ${out}`);
            }
        } finally {
            await new Promise<void>((r) => server.close(() => r()));
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("trusts Node's default CAs, the extra ones and the given ones together", () => {
        const given = "-----BEGIN CERTIFICATE-----\nMIIBgiven\n-----END CERTIFICATE-----";
        const cas = trustedCas([given]);
        assert.ok(cas.length > 100, "the default roots are kept");
        assert.ok(cas.includes(given));
        assert.equal(cas.filter((c) => c === given).length, 1);
    });

    it("reports a refused connection as transient", async () => {
        const client = new HttpClient(["gone.example.com:443:127.0.0.1:1"]);
        await assert.rejects(client.request("https://gone.example.com/", { timeoutMs: 8000 }), (e: unknown) => e instanceof TransientFailure && /connection refused/.test(e.message));
    });
});

describe("withRetry", () => {
    it("retries transient failures with growing pauses until one attempt passes", async () => {
        let attempts = 0;
        const delays: number[] = [];
        const result = await withRetry(async () => {
            attempts++;
            if (attempts < 4) throw new TransientFailure("503");
            return "ok";
        }, { deadline: Date.now() + 30_000, timeoutMs: 5000, baseDelayMs: 20, onRetry: (_r, _n, delay) => delays.push(delay) });
        assert.equal(result, "ok");
        assert.equal(delays.length, 3);
        // Doubling with jitter in [50%, 100%]: the third pause is never shorter than the first.
        assert.ok(delays[2] >= delays[0] && delays[2] >= 40 && delays[0] <= 20, delays.join(", "));
    });

    it("does not retry a final failure", async () => {
        let attempts = 0;
        await assert.rejects(withRetry(async () => {
            attempts++;
            throw new CheckFailure("wrong answer");
        }, { deadline: Date.now() + 5000, timeoutMs: 1000 }), /wrong answer/);
        assert.equal(attempts, 1);
    });

    it("names the server's last answer, not the timeout of an attempt the deadline (or a loaded machine) cut short", async () => {
        let attempts = 0;
        const retried: string[] = [];
        await assert.rejects(withRetry(async (timeoutMs) => {
            attempts++;
            if (attempts === 1) throw new TransientFailure("answered 503");
            await new Promise((r) => setTimeout(r, timeoutMs + 50));
            return "late";
        }, { deadline: Date.now() + 700, timeoutMs: 250, baseDelayMs: 20, onRetry: (reason) => retried.push(reason) }), /answered 503 \(gave up at the deadline after \d+ attempts\)$/);
        assert.ok(attempts >= 2, "the later attempts timed out");
        assert.match(retried.at(-1) ?? "", /^timed out after \d+ ms$/, "each retry is logged with its own reason");
        // With no answer at all, the timeout is what there is to say.
        await assert.rejects(withRetry((timeoutMs) => new Promise((r) => setTimeout(r, timeoutMs + 50)), { deadline: Date.now() + 500, timeoutMs: 200, baseDelayMs: 20 }), /timed out after \d+ ms \(gave up at the deadline/);
    });

    it("gives up at the deadline, saying how many attempts it made", async () => {
        await assert.rejects(withRetry(async () => {
            throw new TransientFailure("connection refused");
        }, { deadline: Date.now() + 600, timeoutMs: 1000, baseDelayMs: 50 }), /connection refused \(gave up at the deadline after \d+ attempts\)/);
    });

    it("times out an attempt that hangs, and retries it", async () => {
        let attempts = 0;
        const result = await withRetry((timeoutMs) => {
            attempts++;
            assert.ok(timeoutMs <= 300);
            return attempts === 1 ? new Promise<string>(() => undefined) : Promise.resolve("second");
        }, { deadline: Date.now() + 30_000, timeoutMs: 300, baseDelayMs: 10 });
        assert.equal(result, "second");
        assert.equal(attempts, 2);
    });
});
