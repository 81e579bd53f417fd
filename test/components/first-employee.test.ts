/**
 * The first-employee bootstrap script, run for real (node, as the Job runs it) against a fake Kratos admin API
 * and a fake Kubernetes API server over real TLS, both on 127.0.0.1, with faults injected.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { BOOTSTRAP_SCRIPT_PATH, RECOVERY_SECRET_NAME } from "../../components/first-employee";
import { testPki } from "../helpers/tls-certs";

const EMAIL = "Officer@Demo-Bank.example";
const NAMESPACE = "bank-demo-integrate";
const TOKEN = `token-${crypto.randomBytes(8).toString("hex")}`;

interface Identity { id: string; traits: { email: string }; password: boolean }

/** Kratos' admin API, the parts the bootstrap uses, with switchable faults. */
class FakeKratos {
    identities: Identity[] = [];
    creates = 0;
    codes: string[] = [];
    notReadyFor = 0;
    failCreate = false;
    readonly server = http.createServer((req, res) => this.handle(req, res));

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const url = new URL(req.url ?? "/", "http://kratos");
        const send = (status: number, body?: unknown) => {
            res.writeHead(status, { "content-type": "application/json" });
            res.end(body === undefined ? "" : JSON.stringify(body));
        };
        let raw = "";
        req.on("data", (c) => { raw += c; });
        req.on("end", () => {
            if (url.pathname === "/admin/health/ready") {
                if (this.notReadyFor > 0) { this.notReadyFor--; return send(503, { error: "not ready" }); }
                return send(200, { status: "ok" });
            }
            if (url.pathname === "/admin/identities" && req.method === "GET") {
                const id = url.searchParams.get("credentials_identifier");
                return send(200, this.identities.filter((i) => i.traits.email === id).map((i) => ({ id: i.id, traits: i.traits })));
            }
            if (url.pathname === "/admin/identities" && req.method === "POST") {
                if (this.failCreate) return send(500, { error: "database is down" });
                const body = JSON.parse(raw);
                assert.equal(body.schema_id, "employee");
                if (this.identities.some((i) => i.traits.email === body.traits.email)) return send(409, { error: "exists" });
                this.creates++;
                const identity = { id: crypto.randomUUID(), traits: body.traits, password: false };
                this.identities.push(identity);
                return send(201, { id: identity.id, traits: identity.traits });
            }
            const one = /^\/admin\/identities\/([^/]+)$/.exec(url.pathname);
            if (one && req.method === "GET") {
                const identity = this.identities.find((i) => i.id === one[1]);
                if (!identity) return send(404, {});
                const credentials = identity.password ? { password: { type: "password", identifiers: [identity.traits.email] } } : {};
                return send(200, { id: identity.id, traits: identity.traits, credentials });
            }
            if (url.pathname === "/admin/recovery/code" && req.method === "POST") {
                const body = JSON.parse(raw);
                if (!this.identities.some((i) => i.id === body.identity_id)) return send(404, {});
                const code = String(crypto.randomInt(100000, 999999));
                this.codes.push(code);
                return send(201, {
                    recovery_link: `https://backoffice-demo-integrate.dcm.example.com/.ory/self-service/recovery?flow=${crypto.randomUUID()}`,
                    recovery_code: code,
                    expires_at: new Date(Date.now() + 72 * 3600_000).toISOString(),
                });
            }
            send(404, {});
        });
    }
}

/** The Kubernetes API server's Secret PATCH (merge patch), behind bearer-token auth, over TLS. */
class FakeApiServer {
    data: Record<string, string> = {};
    patches = 0;
    token = TOKEN;
    server!: https.Server;

    listen(pki: { cert: string; key: string }): Promise<void> {
        this.server = https.createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
            let raw = "";
            req.on("data", (c) => { raw += c; });
            req.on("end", () => {
                const expected = `/api/v1/namespaces/${NAMESPACE}/secrets/${RECOVERY_SECRET_NAME}`;
                if (req.headers.authorization !== `Bearer ${this.token}`) { res.writeHead(403).end("{}"); return; }
                if (req.method !== "PATCH" || req.url !== expected || req.headers["content-type"] !== "application/merge-patch+json") {
                    res.writeHead(404).end("{}");
                    return;
                }
                this.patches++;
                for (const [k, v] of Object.entries(JSON.parse(raw).data as Record<string, string | null>)) {
                    if (v === null) delete this.data[k];
                    else this.data[k] = Buffer.from(v, "base64").toString("utf8");
                }
                res.writeHead(200, { "content-type": "application/json" });
                res.end("{}");
            });
        });
        return new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    }
}

const port = (s: http.Server | https.Server) => (s.address() as AddressInfo).port;

describe("the first-employee bootstrap", () => {
    const kratos = new FakeKratos();
    const api = new FakeApiServer();
    let saDir: string;

    function run(extraEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
        return new Promise((resolve, reject) => {
            const child = spawn(process.execPath, [BOOTSTRAP_SCRIPT_PATH], {
                env: {
                    PATH: process.env.PATH ?? "",
                    KRATOS_ADMIN_URL: `http://127.0.0.1:${port(kratos.server)}/`,
                    EMPLOYEE_EMAIL: EMAIL,
                    POD_NAMESPACE: NAMESPACE,
                    RECOVERY_SECRET_NAME,
                    SERVICE_ACCOUNT_DIR: saDir,
                    KUBERNETES_API_URL: `https://127.0.0.1:${port(api.server)}`,
                    READY_ATTEMPTS: "5",
                    READY_DELAY_MS: "20",
                    ...extraEnv,
                },
                stdio: ["ignore", "pipe", "pipe"],
            });
            let output = "";
            child.stdout.on("data", (d) => { output += d; });
            child.stderr.on("data", (d) => { output += d; });
            const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
            timer.unref();
            child.on("error", reject);
            child.on("close", (code) => { clearTimeout(timer); resolve({ code, output }); });
        });
    }

    before(async () => {
        const pki = await testPki(["localhost"], ["127.0.0.1"]);
        saDir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-"));
        fs.writeFileSync(path.join(saDir, "token"), `${TOKEN}\n`);
        fs.writeFileSync(path.join(saDir, "ca.crt"), pki.ca);
        await new Promise<void>((resolve) => kratos.server.listen(0, "127.0.0.1", resolve));
        await api.listen(pki);
    });
    after(() => {
        kratos.server.close();
        api.server.close();
        fs.rmSync(saDir, { recursive: true, force: true });
    });
    beforeEach(() => {
        kratos.notReadyFor = 0;
        kratos.failCreate = false;
        api.token = TOKEN;
    });

    it("creates the employee once, and stores a fresh recovery link in the Secret, never in its output", async () => {
        kratos.notReadyFor = 2;
        const first = await run();
        assert.equal(first.code, 0, first.output);
        assert.equal(kratos.creates, 1);
        assert.equal(kratos.identities[0].traits.email, EMAIL.toLowerCase());
        assert.equal(api.data.status, "recovery-pending");
        assert.equal(api.data.identity_id, kratos.identities[0].id);
        assert.match(api.data.recovery_link, /^https:\/\/backoffice-demo-integrate\.dcm\.example\.com\/\.ory\/self-service\/recovery\?flow=/);
        assert.equal(api.data.recovery_code, kratos.codes.at(-1));
        const firstLink = api.data.recovery_link;
        assert.ok(!first.output.includes(firstLink) && !first.output.includes(api.data.recovery_code), "the link reached the log");

        const second = await run();
        assert.equal(second.code, 0, second.output);
        assert.equal(kratos.creates, 1, "re-running creates no duplicate");
        assert.equal(kratos.identities.length, 1);
        assert.notEqual(api.data.recovery_link, firstLink, "a new code replaces the expired-or-used one");
        assert.ok(!second.output.includes(api.data.recovery_link));
    });

    it("issues no recovery code once the employee has a password, and removes the old link", async () => {
        kratos.identities[0].password = true;
        const codes = kratos.codes.length;
        const r = await run();
        assert.equal(r.code, 0, r.output);
        assert.equal(kratos.codes.length, codes);
        assert.equal(api.data.status, "password-set");
        assert.equal(api.data.recovery_link, undefined);
        assert.equal(api.data.recovery_code, undefined);
        kratos.identities[0].password = false;
    });

    it("fails, writing nothing, when Kratos never becomes ready or cannot create the employee", async () => {
        const patches = api.patches;
        kratos.notReadyFor = 100;
        const notReady = await run({ EMPLOYEE_EMAIL: "second@demo-bank.example" });
        assert.equal(notReady.code, 1);
        assert.match(notReady.output, /not ready after 5 attempts/);
        kratos.notReadyFor = 0;
        kratos.failCreate = true;
        const failed = await run({ EMPLOYEE_EMAIL: "second@demo-bank.example" });
        assert.equal(failed.code, 1);
        assert.match(failed.output, /creating the employee: Kratos answered 500/);
        assert.equal(api.patches, patches);
    });

    it("fails without leaking the link when the API server refuses the write", async () => {
        api.token = "another-token";
        const r = await run();
        assert.equal(r.code, 1);
        assert.match(r.output, new RegExp(`writing Secret ${NAMESPACE}/${RECOVERY_SECRET_NAME}: the API server answered 403`));
        assert.ok(!/self-service\/recovery|recovery_code/.test(r.output));
    });

    it("refuses an API server whose certificate is not signed by the ServiceAccount's CA", async () => {
        const other = await testPki(["localhost"], ["127.0.0.1"]);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-"));
        try {
            fs.writeFileSync(path.join(dir, "token"), TOKEN);
            fs.writeFileSync(path.join(dir, "ca.crt"), other.ca);
            const r = await run({ SERVICE_ACCOUNT_DIR: dir });
            assert.equal(r.code, 1);
            assert.match(r.output, /certificate|self.signed|verify/i);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
