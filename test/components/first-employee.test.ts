/**
 * The first-employee bootstrap script, run for real (node, as the Job runs it) against a fake Kratos admin API
 * (support/fake-kratos.ts, held to real Kratos by test/real/kratos-contract.test.ts) and a fake Kubernetes
 * API server over real TLS, both on 127.0.0.1, with faults injected.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { BOOTSTRAP_SCRIPT_PATH, FirstEmployee, RECOVERY_SECRET_NAME } from "../../components/first-employee";
import { FakeKratos } from "../../support/fake-kratos";
import { FakeSecretApi } from "../../support/fake-secret-api";
import { testPki } from "../../support/tls-certs";

const EMAIL = "Officer@Demo-Bank.example";
const NAMESPACE = "bank-demo-integrate";
const TOKEN = `token-${crypto.randomBytes(8).toString("hex")}`;

const BACKOFFICE = "backoffice-demo-integrate.dcm.example.com";

describe("the first-employee bootstrap", () => {
    const kratos = new FakeKratos({ recoveryUiUrl: `https://${BACKOFFICE}/recovery`, publicBaseUrl: `https://${BACKOFFICE}/.ory` });
    const api = new FakeSecretApi({ namespace: NAMESPACE, secretName: RECOVERY_SECRET_NAME, token: TOKEN });
    let saDir: string;

    function run(extraEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
        return new Promise((resolve, reject) => {
            const child = spawn(process.execPath, [BOOTSTRAP_SCRIPT_PATH], {
                env: {
                    PATH: process.env.PATH ?? "",
                    // As Kubernetes sets them for the Service kratos-admin: an address and a port, no name to resolve.
                    KRATOS_ADMIN_SERVICE: "kratos-admin",
                    KRATOS_ADMIN_SERVICE_HOST: new URL(kratos.url).hostname,
                    KRATOS_ADMIN_SERVICE_PORT: new URL(kratos.url).port,
                    EMPLOYEE_EMAIL: EMAIL,
                    POD_NAMESPACE: NAMESPACE,
                    RECOVERY_SECRET_NAME,
                    SERVICE_ACCOUNT_DIR: saDir,
                    KUBERNETES_API_URL: api.url,
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
        await kratos.listen();
        await api.listen(pki);
    });
    after(() => {
        void kratos.close();
        void api.close();
        fs.rmSync(saDir, { recursive: true, force: true });
    });
    beforeEach(() => {
        kratos.notReadyFor = 0;
        kratos.failCreate = false;
        api.token = TOKEN;
        api.refusePatch = false;
    });
    const employee = () => kratos.identities.find((i) => i.traits.email === EMAIL.toLowerCase())!;

    it("creates the employee once with a password credential Kratos leaves empty, and stores a recovery link valid at most 24h", async () => {
        kratos.notReadyFor = 2;
        const first = await run();
        assert.equal(first.code, 0, first.output);
        const creates = kratos.sent("POST", "/admin/identities");
        assert.equal(creates.length, 1);
        assert.deepEqual(creates[0].body, { schema_id: "employee", traits: { email: EMAIL.toLowerCase() }, state: "active" });
        // The regression: Kratos' fresh identity has a password credential (identifiers, empty config); that is no password.
        const asked = kratos.sent("GET", `/admin/identities/${employee().id}`);
        assert.equal(asked.length, 1);
        assert.equal(new URL(asked[0].url, "http://x").searchParams.get("include_credential"), "password");
        assert.equal(api.data.status, "recovery-pending");
        assert.equal(api.data.identity_id, employee().id);
        assert.match(api.data.recovery_link, new RegExp(`^https://${BACKOFFICE.replace(/\./g, "\\.")}/recovery\\?flow=[0-9a-f-]{36}$`));
        assert.equal(api.data.recovery_code, kratos.codes.at(-1));
        const codeRequests = kratos.sent("POST", "/admin/recovery/code");
        assert.deepEqual(codeRequests.map((r) => r.body), [{ identity_id: employee().id, expires_in: "24h" }]);
        const lifetime = Date.parse(api.data.expires_at) - Date.now();
        assert.ok(lifetime > 23.9 * 3600_000 && lifetime <= 24 * 3600_000, `the link lives ${lifetime} ms`);
        for (const secret of [api.data.recovery_link, api.data.recovery_code, new URL(api.data.recovery_link).searchParams.get("flow")!]) {
            assert.ok(!first.output.includes(secret), "the link or code reached the log");
        }
    });

    it("changes nothing on a second run while the stored link is valid: no identity, no code, no write", async () => {
        const before = { ...api.data };
        const patches = api.patches;
        const codes = kratos.codes.length;
        const second = await run();
        assert.equal(second.code, 0, second.output);
        assert.equal(kratos.sent("POST", "/admin/identities").length, 1, "re-running creates no duplicate");
        assert.equal(kratos.identities.length, 1);
        assert.equal(kratos.codes.length, codes, "no second code while the first is valid");
        assert.equal(api.patches, patches);
        assert.deepEqual(api.data, before);
        assert.match(second.output, /still valid/);
        assert.ok(!second.output.includes(before.recovery_link));
    });

    it("replaces a stored link that expires within the hour", async () => {
        api.data.expires_at = new Date(Date.now() + 30 * 60_000).toISOString();
        const old = api.data.recovery_link;
        const r = await run();
        assert.equal(r.code, 0, r.output);
        assert.notEqual(api.data.recovery_link, old);
        assert.equal(api.data.recovery_code, kratos.codes.at(-1));
        assert.ok(Date.parse(api.data.expires_at) - Date.now() > 23 * 3600_000);
    });

    it("once the password is set, reports password-set, removes link and code, and issues no code", async () => {
        kratos.setPassword(employee().id);
        const codes = kratos.codes.length;
        const r = await run();
        assert.equal(r.code, 0, r.output);
        assert.equal(kratos.codes.length, codes);
        assert.deepEqual(api.data, { status: "password-set", email: EMAIL.toLowerCase(), identity_id: employee().id });
        const patches = api.patches;
        const again = await run();
        assert.equal(again.code, 0, again.output);
        assert.equal(api.patches, patches, "nothing left to change");
    });

    it("refuses a recovery link that would live longer than 24 hours, before any request", async () => {
        const requests = kratos.requests.length;
        for (const expiresIn of ["25h", "24h1m", "0h", "72h", "1d", ""]) {
            const r = await run({ RECOVERY_EXPIRES_IN: expiresIn || " " });
            assert.equal(r.code, 1, expiresIn);
            assert.match(r.output, /RECOVERY_EXPIRES_IN must be a duration like 24h or 90m, more than 0 and at most 24h/);
        }
        assert.equal(kratos.requests.length, requests);
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

    it("fails without leaking the link when the API server refuses the read or the write", async () => {
        api.token = "another-token";
        const unread = await run({ EMPLOYEE_EMAIL: "third@demo-bank.example" });
        assert.equal(unread.code, 1);
        assert.match(unread.output, new RegExp(`reading Secret ${NAMESPACE}/${RECOVERY_SECRET_NAME}: the API server answered 403`));
        api.token = TOKEN;
        api.refusePatch = true;
        const codes = kratos.codes.length;
        const r = await run({ EMPLOYEE_EMAIL: "third@demo-bank.example" });
        assert.equal(r.code, 1);
        assert.equal(kratos.codes.length, codes + 1, "the code was issued, then the write refused");
        assert.match(r.output, new RegExp(`writing Secret ${NAMESPACE}/${RECOVERY_SECRET_NAME}: the API server answered 403`));
        assert.ok(!r.output.includes(kratos.codes.at(-1)!) && !/recovery\?flow=/.test(r.output));
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

describe("the FirstEmployee component's recovery link lifetime", () => {
    const jobs: Record<string, any>[] = [];
    before(async () => {
        await pulumi.runtime.setMocks({
            newResource: (a) => {
                if (a.type === "kubernetes:batch/v1:Job") jobs.push(a.inputs);
                return { id: `${a.name}-id`, state: a.inputs };
            },
            call: () => ({}),
        }, "dcm-integration", "demo");
    });
    const args = (recoveryExpiresIn?: string) => ({
        namespace: NAMESPACE, labels: {}, email: EMAIL, kratosAdminService: "kratos-admin", image: "node:24", kratosReady: [], recoveryExpiresIn,
    });
    const expiresInOf = (job: Record<string, any>) => job.spec.template.spec.containers[0].env.find((e: any) => e.name === "RECOVERY_EXPIRES_IN").value;

    it("refuses more than 24 hours, or no duration, naming the component and the rule", () => {
        for (const bad of ["25h", "72h", "1441m", "0h", "1d", "24h30m", ""]) {
            assert.throws(() => new FirstEmployee(`bad-${bad || "empty"}`, args(bad)), (e: Error) => {
                assert.ok(e instanceof pulumi.ResourceError, `${bad}: a ResourceError, got ${e.name}`);
                assert.match(e.message, new RegExp(`^FirstEmployee bad-${bad || "empty"}: recoveryExpiresIn must be like 24h or 90m, more than 0 and at most 24h, got '${bad}'$`));
                return true;
            });
        }
    });

    it("passes 24h by default, and a shorter lifetime as given, to the Job", async () => {
        new FirstEmployee("default", args());
        new FirstEmployee("short", args("90m"));
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(jobs.map(expiresInOf).sort(), ["24h", "90m"]);
    });
});
