/**
 * The first employee's side of a bank, shared by the real tests: the rendered bootstrap Job's container run as
 * the Job runs it (against a Kratos admin API and a fake Kubernetes API holding the Secret), the backoffice host
 * behind Debian nginx doing what the rendered Ingresses do, and the officer's flows through Kratos' own
 * self-service API: recovery with the code, a password and TOTP in settings, login with both factors.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { realBinary } from "../../real/components";
import { FakeSecretApi } from "../fake-secret-api";
import { testPki } from "../tls-certs";
import { Browser, nodeText, nodeValue } from "./browser";
import type { RenderedStack } from "./kratos";
import { ingressPaths, NginxSite, RunningNginx, startNginx, stubBackend } from "./nginx";
import { emulatePod, renderedObject } from "./pod";
import { totp } from "./totp";

/** What the bootstrap Job finds around it, here: its namespace, its ServiceAccount's files, the API server with its Secret. */
export interface BootstrapWorld {
    /** Work directory: `sa/` (token, ca.crt), and `tls.crt`/`tls.key` for the hosts. */
    work: string;
    /** The test CA's certificate (PEM). */
    ca: string;
    namespace: string;
    /** The first employee's email, as the rendered Job has it. */
    email: string;
    /** The fake Kubernetes API server holding Secret `first-employee-recovery` (listening). */
    api: FakeSecretApi;
    close(): Promise<void>;
}

/** Prepares a BootstrapWorld for the render: a certificate for `hosts` (and loopback), the ServiceAccount's files, the API server. */
export async function bootstrapWorld(stack: RenderedStack, hosts: string[]): Promise<BootstrapWorld> {
    const job = renderedObject(stack.resources, "Job", "first-employee-bootstrap");
    const namespace = String(stack.outputs.namespaceName ?? job.metadata.namespace);
    const pod = emulatePod(stack.resources, "Job", "first-employee-bootstrap", { "metadata.namespace": namespace });
    const { EMPLOYEE_EMAIL: email, RECOVERY_SECRET_NAME: secretName } = pod.container("bootstrap").env;
    pod.cleanup();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-officer-"));
    const token = `sa-token-${crypto.randomBytes(8).toString("hex")}`;
    const pki = await testPki([...hosts, "localhost"], ["127.0.0.1"]);
    fs.mkdirSync(path.join(work, "sa"));
    fs.writeFileSync(path.join(work, "sa", "token"), token);
    fs.writeFileSync(path.join(work, "sa", "ca.crt"), pki.ca);
    fs.writeFileSync(path.join(work, "tls.crt"), pki.cert);
    fs.writeFileSync(path.join(work, "tls.key"), pki.key);
    const api = new FakeSecretApi({ namespace, secretName, token });
    await api.listen(pki);
    return {
        work, ca: pki.ca, namespace, email, api,
        async close() {
            await api.close();
            fs.rmSync(work, { recursive: true, force: true });
        },
    };
}

export interface BootstrapTarget {
    /** The namespace the Job's pod would run in (its fieldRef). */
    namespace: string;
    /** The local Kratos admin URL standing in for the rendered in-cluster one. */
    kratosAdminUrl: string;
    /** The fake Kubernetes API server's URL. */
    kubernetesApiUrl: string;
    /** Directory holding the ServiceAccount's `token` and `ca.crt`. */
    serviceAccountDir: string;
}

/** Runs the rendered Job's container as the Job does; only the in-cluster addresses point here. */
export async function runBootstrap(stack: RenderedStack, target: BootstrapTarget): Promise<{ code: number | null; output: string }> {
    const pod = emulatePod(stack.resources, "Job", "first-employee-bootstrap", { "metadata.namespace": target.namespace });
    try {
        const c = pod.container("bootstrap");
        assert.equal(c.command[0], "node");
        // Kratos admin by its Service's variables (the pod has no DNS), as the kubelet sets them: here the local Kratos.
        assert.equal(c.env.KRATOS_ADMIN_SERVICE, "kratos-admin");
        const admin = new URL(target.kratosAdminUrl);
        const env = {
            PATH: process.env.PATH ?? "",
            ...c.env,
            KRATOS_ADMIN_SERVICE_HOST: admin.hostname,
            KRATOS_ADMIN_SERVICE_PORT: admin.port,
            KUBERNETES_API_URL: target.kubernetesApiUrl,
            SERVICE_ACCOUNT_DIR: target.serviceAccountDir,
            READY_ATTEMPTS: "5",
            READY_DELAY_MS: "200",
        };
        return await new Promise((resolve, reject) => {
            const child = spawn(process.execPath, [...c.command.slice(1), ...c.args], { env, stdio: ["ignore", "pipe", "pipe"] });
            let output = "";
            child.stdout.on("data", (d) => { output += d; });
            child.stderr.on("data", (d) => { output += d; });
            const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
            child.on("error", reject);
            child.on("close", (code) => { clearTimeout(timer); resolve({ code, output }); });
        });
    } finally {
        pod.cleanup();
    }
}

export interface Backoffice {
    proxy: RunningNginx;
    /** A fresh browser (empty cookie jar) on the backoffice host. */
    browser(): Browser;
    stop(): Promise<void>;
}

/**
 * The backoffice host of the render behind nginx: Kratos' public Service is the given port, the frontend a
 * single-page stand-in, every other backend a 404 stand-in. `certDir` holds tls.crt and tls.key for the host.
 */
export async function startBackoffice(stack: RenderedStack, kratosPublicPort: number, certDir: string, ca: string): Promise<Backoffice> {
    const spa = await stubBackend("spa");
    const notFound = await stubBackend("not-found");
    try {
        const site: NginxSite = { host: stack.backofficeHost, paths: ingressPaths(stack.resources, stack.backofficeHost) };
        const upstreams: Record<string, number> = {};
        for (const p of site.paths) {
            upstreams[`${p.service}:${p.port}`] = p.service.startsWith("kratos-public") ? kratosPublicPort : p.path === "/" ? spa.port : notFound.port;
        }
        const proxy = await startNginx(realBinary("nginx"), {
            sites: [site], upstreams, certFile: path.join(certDir, "tls.crt"), keyFile: path.join(certDir, "tls.key"),
        });
        return {
            proxy,
            browser: () => new Browser(stack.backofficeHost, proxy.port, ca),
            async stop() {
                await proxy.stop();
                await spa.close();
                await notFound.close();
            },
        };
    } catch (e) {
        await spa.close();
        await notFound.close();
        throw e;
    }
}

/** The recovery link's flow used with its code: a session, and the settings flow Kratos sends the browser to. */
export async function recover(officer: Browser, backofficeHost: string, recoveryLink: string, code: string): Promise<string> {
    const flowId = new URL(recoveryLink).searchParams.get("flow")!;
    const recovery = await officer.request(`/.ory/self-service/recovery/flows?id=${flowId}`);
    assert.equal(recovery.status, 200, recovery.text);
    assert.equal(recovery.json.state, "sent_email");
    const used = await officer.request(`/.ory/self-service/recovery?flow=${flowId}`, { json: { method: "code", code } });
    // A browser flow answered as JSON: 422 "go to the settings UI" (or 200 with continue_with), and a session.
    const settingsUrl: string = used.json?.redirect_browser_to ?? used.json?.continue_with?.find((c: any) => c.action === "show_settings_ui")?.flow?.url;
    assert.ok(settingsUrl, `recovery answered ${used.status}: ${used.text.slice(0, 300)}`);
    assert.ok(settingsUrl.startsWith(`https://${backofficeHost}/settings?flow=`), settingsUrl);
    assert.ok(officer.cookieNames().includes("ory_kratos_session"), "no session after recovery");
    return new URL(settingsUrl).searchParams.get("flow")!;
}

/** Sets the password in the settings flow `settingsId`. */
export async function setPassword(officer: Browser, settingsId: string, password: string): Promise<void> {
    const settings = await officer.request(`/.ory/self-service/settings/flows?id=${settingsId}`);
    assert.equal(settings.status, 200, settings.text);
    const set = await officer.request(`/.ory/self-service/settings?flow=${settingsId}`, {
        json: { method: "password", password, csrf_token: nodeValue(settings.json, "csrf_token") },
    });
    assert.equal(set.status, 200, set.text.slice(0, 500));
    assert.equal(set.json.state, "success");
}

/** Enrols TOTP in a new settings flow, with a code computed here; returns the secret (base32). */
export async function enrolTotp(officer: Browser): Promise<{ secret: string; settingsFlow: any }> {
    const flow = await officer.request("/.ory/self-service/settings/browser");
    assert.equal(flow.status, 200, flow.text.slice(0, 300));
    const secret = nodeText(flow.json, "totp_secret_key") ?? "";
    assert.match(secret, /^[A-Z2-7]{16,}$/, "Kratos offers TOTP enrolment (selfservice.methods.totp)");
    const enrol = await officer.request(`/.ory/self-service/settings?flow=${flow.json.id}`, {
        json: { method: "totp", totp_code: totp(secret), csrf_token: nodeValue(flow.json, "csrf_token") },
    });
    assert.equal(enrol.status, 200, enrol.text.slice(0, 500));
    assert.equal(enrol.json.state, "success");
    return { secret, settingsFlow: flow.json };
}

/** Password, then the TOTP code: the login a backoffice employee makes. Returns whoami's answer afterwards. */
export async function loginWithTotp(officer: Browser, backofficeHost: string, email: string, password: string, secret: string): Promise<any> {
    const login = await officer.request("/.ory/self-service/login/browser");
    assert.equal(login.status, 200, login.text.slice(0, 300));
    const first = await officer.request(`/.ory/self-service/login?flow=${login.json.id}`, {
        json: { method: "password", identifier: email, password, csrf_token: nodeValue(login.json, "csrf_token") },
    });
    // Kratos itself sends the browser on to the second factor (a JSON browser flow: 422 with the URL).
    assert.equal(first.status, 422, first.text.slice(0, 500));
    assert.equal(first.json.redirect_browser_to, `https://${backofficeHost}/.ory/self-service/login/browser?aal=aal2`);
    const second = await officer.request("/.ory/self-service/login/browser?aal=aal2");
    assert.equal(second.status, 200, second.text.slice(0, 300));
    const done = await officer.request(`/.ory/self-service/login?flow=${second.json.id}`, {
        json: { method: "totp", totp_code: totp(secret), csrf_token: nodeValue(second.json, "csrf_token") },
    });
    assert.equal(done.status, 200, done.text.slice(0, 500));
    const whoami = await officer.request("/.ory/sessions/whoami");
    assert.equal(whoami.status, 200, whoami.text.slice(0, 300));
    return whoami.json;
}
