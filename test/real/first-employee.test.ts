/**
 * Plan steps 9 and 11 against real Kratos (issue 10): the rendered bootstrap Job's container, run as the Job
 * runs it, against the real admin API (a fake Kubernetes API server holds the Secret), then the officer in a
 * "browser" through Debian nginx doing what the backoffice Ingress does: recovery with the code, a password
 * through the settings flow, TOTP enrolled with a code computed here; the next bootstrap run sees the
 * password. Then login needs the second factor, and the post-deploy checks run against it all.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { KRATOS_RATE_LIMITS } from "../../components/integration-hosts";
import { backofficeSessionAccepted } from "../../components/kratos-config";
import { runChecks } from "../../scripts/lib/checks";
import { missingComponents, realBinary } from "../../real/components";
import type { FakeSecretApi } from "../../support/fake-secret-api";
import { testPki } from "../../support/tls-certs";
import { Answer, Browser, nodeText, nodeValue } from "../../support/real/browser";
import { KRATOS_COMPONENTS, renderStack, RenderedStack, RunningKratos, startKratos } from "../../support/real/kratos";
import { ingressPaths, NginxSite, RunningNginx, startNginx, stubBackend } from "../../support/real/nginx";
import { BootstrapWorld, bootstrapWorld, enrolTotp, recover, runBootstrap, setPassword } from "../../support/real/officer";
import { totp } from "../../support/real/totp";

const missing = missingComponents([...KRATOS_COMPONENTS, "nginx"]);
const skip = missing.length ? `${missing.join(", ")} not built: run \`npm run real:setup\`` : false;
const PASSWORD = `Officer-${crypto.randomBytes(12).toString("base64url")}`;
const CHECKS = ["kratos-health", "kratos-login-flow", "kratos-admin-hidden"];
/** DCM's API Service as Pulumi.yaml's dcmApiUpstream names it (the name its certificate must carry). */
const DCM_API_HOST = "dcm-api.dcm-platform.svc.cluster.local";

describe("the first employee, against real Kratos behind the backoffice proxy", { skip }, () => {
    let stack: RenderedStack;
    let kratos: RunningKratos;
    let proxy: RunningNginx;
    let preFixProxy: RunningNginx;
    let api: FakeSecretApi;
    let ca: string;
    let world: BootstrapWorld;
    let work: string;
    let namespace: string;
    let email: string;
    const stubs: { close(): Promise<void> }[] = [];
    let totpSecret = "";
    let proxyOptions: Parameters<typeof startNginx>[1];

    const bootstrap = () => runBootstrap(stack, {
        namespace, kratosAdminUrl: kratos.adminUrl, kubernetesApiUrl: api.url, serviceAccountDir: path.join(work, "sa"),
    });

    /** What the frontend asks before showing DCM's data: Kratos' whoami, judged by the frontend's rule. */
    async function frontendAccepts(b: Browser): Promise<{ accepted: boolean; whoami: Answer }> {
        const whoami = await b.request("/.ory/sessions/whoami");
        return { accepted: backofficeSessionAccepted(whoami.status, whoami.json), whoami };
    }
    /** A session with no second factor: Kratos answers (no factor to ask for), at aal1, and the frontend refuses it. */
    async function assertRefusedByFrontend(b: Browser, when: string): Promise<void> {
        const { accepted, whoami } = await frontendAccepts(b);
        assert.equal(whoami.status, 200, `${when}: ${whoami.text.slice(0, 300)}`);
        assert.equal(whoami.json.authenticator_assurance_level, "aal1", when);
        assert.equal(accepted, false, `the frontend would accept the session ${when}`);
    }

    async function identities(): Promise<any[]> {
        const res = await fetch(`${kratos.adminUrl}/admin/identities?credentials_identifier=${encodeURIComponent(email)}`);
        return (await res.json()) as any[];
    }

    const browser = () => new Browser(stack.backofficeHost, proxy.port, ca);
    const stackOutputs = () => stack.outputs;
    const resolveTo = (p: RunningNginx) => [stack.backofficeHost, String(stack.outputs.apiHost)].map((h) => `${h}:443:127.0.0.1:${p.port}`);

    before(async () => {
        // The Ingresses nginx emulates: the legacy routing mode (the Gateway API mode's objects are held to the same
        // properties in test/components/edge-routing.test.ts).
        stack = await renderStack("demo", { routing: "ingress-nginx" });
        const hosts = [stack.backofficeHost, String(stack.outputs.apiHost)];
        world = await bootstrapWorld(stack, hosts);
        ({ work, ca, namespace, email, api } = world);
        kratos = await startKratos(stack);

        const spa = await stubBackend("spa");
        const notFound = await stubBackend("not-found");
        // DCM's API over HTTPS, with a certificate for its Service name from a CA the proxy is given as dcmApiCa.
        const dcmPki = await testPki([DCM_API_HOST]);
        const dcmApi = await stubBackend("not-found", { cert: dcmPki.cert, key: dcmPki.key });
        fs.writeFileSync(path.join(work, "dcm-api-ca.crt"), dcmPki.ca);
        stubs.push(spa, notFound, dcmApi);
        const sites: NginxSite[] = hosts.map((host) => ({ host, paths: ingressPaths(stack.resources, host) }));
        const upstreams: Record<string, number> = {};
        for (const p of sites.flatMap((s) => s.paths)) {
            const key = `${p.service}:${p.port}`;
            const isFrontend = p.path === "/" && sites[0].paths.includes(p);
            upstreams[key] = p.service.startsWith("kratos-public") ? kratos.publicPort : p.service === "dcm-api" ? dcmApi.port : isFrontend ? spa.port : notFound.port;
        }
        const options = { certFile: path.join(work, "tls.crt"), keyFile: path.join(work, "tls.key"), upstreams, caFiles: { "dcm-platform/dcm-api-ca": path.join(work, "dcm-api-ca.crt") } };
        proxyOptions = { ...options, sites };
        proxy = await startNginx(realBinary("nginx"), proxyOptions);
        // The render before this issue: no Ingress hiding Kratos' admin-redirecting paths.
        const preFix = sites.map((s) => ({ ...s, paths: s.paths.filter((p) => p.ingress !== "backoffice-kratos-admin-hidden") }));
        assert.ok(preFix[0].paths.length < sites[0].paths.length, "the render has the admin-hiding Ingress");
        preFixProxy = await startNginx(realBinary("nginx"), { ...options, sites: preFix });
    });

    after(async () => {
        await proxy?.stop();
        await preFixProxy?.stop();
        await kratos?.stop();
        await world?.close();
        for (const s of stubs) await s.close();
    });

    it("first run: creates the employee and stores a recovery code and link valid at most 24 hours", async () => {
        const r = await bootstrap();
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, /created/);
        const found = await identities();
        assert.equal(found.length, 1);
        assert.equal(api.data.status, "recovery-pending", r.output);
        assert.equal(api.data.identity_id, found[0].id);
        assert.equal(api.data.email, email);
        const link = new URL(api.data.recovery_link);
        assert.equal(link.origin, `https://${stack.backofficeHost}`);
        assert.match(link.searchParams.get("flow") ?? "", /^[0-9a-f-]{36}$/);
        assert.match(api.data.recovery_code, /^\d{6}$/);
        const lifetime = Date.parse(api.data.expires_at) - Date.now();
        assert.ok(lifetime > 23.5 * 3600_000 && lifetime <= 24 * 3600_000 + 60_000, `the link lives ${lifetime} ms`);
        assert.ok(!r.output.includes(api.data.recovery_code) && !r.output.includes(link.searchParams.get("flow")!), "the code reached the log");
    });

    it("second run: changes nothing (no second identity, no new code, no write)", async () => {
        const before = { ...api.data };
        const patches = api.patches;
        const r = await bootstrap();
        assert.equal(r.code, 0, r.output);
        assert.equal((await identities()).length, 1);
        assert.deepEqual(api.data, before);
        assert.equal(api.patches, patches);
    });

    it("the officer recovers with the code, sets a password and enrols TOTP through Kratos' own flows, via the proxy", async () => {
        const officer = browser();
        const settingsId = await recover(officer, stack.backofficeHost, api.data.recovery_link, api.data.recovery_code);
        // The recovery code's session opens settings, and nothing the frontend accepts: no second factor yet.
        await assertRefusedByFrontend(officer, "after recovery");
        await setPassword(officer, settingsId, PASSWORD);
        await assertRefusedByFrontend(officer, "with a password set and no second factor");
        const enrolled = await enrolTotp(officer);
        totpSecret = enrolled.secret;
        assert.ok(enrolled.settingsFlow.ui.nodes.some((n: any) => n.group === "webauthn"), "Kratos offers a security key or passkey (selfservice.methods.webauthn)");
        // Enrolling the factor raised this very session to AAL2: now the frontend accepts it.
        const { accepted, whoami } = await frontendAccepts(officer);
        assert.equal(whoami.json?.authenticator_assurance_level, "aal2", whoami.text.slice(0, 300));
        assert.equal(accepted, true);
    });

    it("an employee who logs in with a password and has no second factor gets no session the frontend accepts, but can enrol TOTP, and then needs it", async () => {
        const other = `no-factor.${crypto.randomBytes(4).toString("hex")}@demo-bank.example`;
        const password = `Employee-${crypto.randomBytes(12).toString("base64url")}`;
        const created = await fetch(`${kratos.adminUrl}/admin/identities`, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json" },
            body: JSON.stringify({ schema_id: "employee", traits: { email: other }, state: "active", credentials: { password: { config: { password } } } }),
        });
        assert.equal(created.status, 201, await created.text());
        const employee = browser();
        const login = await employee.request("/.ory/self-service/login/browser");
        assert.equal(login.status, 200, login.text.slice(0, 300));
        const first = await employee.request(`/.ory/self-service/login?flow=${login.json.id}`, {
            json: { method: "password", identifier: other, password, csrf_token: nodeValue(login.json, "csrf_token") },
        });
        // Kratos logs them in: they have no second factor it could ask for.
        assert.equal(first.status, 200, first.text.slice(0, 500));
        assert.equal(first.json.session.authenticator_assurance_level, "aal1");
        await assertRefusedByFrontend(employee, "after a password-only login");

        const settings = await employee.request("/.ory/self-service/settings/browser");
        assert.equal(settings.status, 200, `settings refused the employee who has no factor to enrol yet: ${settings.text.slice(0, 300)}`);
        const secret = nodeText(settings.json, "totp_secret_key") ?? "";
        assert.match(secret, /^[A-Z2-7]{16,}$/);
        const enrol = await employee.request(`/.ory/self-service/settings?flow=${settings.json.id}`, {
            json: { method: "totp", totp_code: totp(secret), csrf_token: nodeValue(settings.json, "csrf_token") },
        });
        assert.equal(enrol.status, 200, enrol.text.slice(0, 500));
        const { accepted, whoami } = await frontendAccepts(employee);
        assert.equal(accepted, true, whoami.text.slice(0, 300));
        assert.equal(whoami.json.identity.traits.email, other);
        // From now on a password alone is refused by Kratos itself (whoami at highest_available).
        const again = new Browser(stack.backofficeHost, proxy.port, ca);
        const flow = await again.request("/.ory/self-service/login/browser");
        const relogin = await again.request(`/.ory/self-service/login?flow=${flow.json.id}`, {
            json: { method: "password", identifier: other, password, csrf_token: nodeValue(flow.json, "csrf_token") },
        });
        assert.equal(relogin.status, 422, relogin.text.slice(0, 500));
        assert.equal((await again.request("/.ory/sessions/whoami")).status, 403);
    });

    it("next run: reports password-set and removes the recovery link and code from the Secret", async () => {
        const r = await bootstrap();
        assert.equal(r.code, 0, r.output);
        assert.deepEqual(api.data, { status: "password-set", email, identity_id: (await identities())[0].id });
        assert.equal((await identities()).length, 1);
    });

    it("a password alone no longer opens the backoffice: the session needs the TOTP code (highest available AAL)", async () => {
        const officer = browser();
        const login = await officer.request("/.ory/self-service/login/browser");
        assert.equal(login.status, 200, login.text.slice(0, 300));
        const first = await officer.request(`/.ory/self-service/login?flow=${login.json.id}`, {
            json: { method: "password", identifier: email, password: PASSWORD, csrf_token: nodeValue(login.json, "csrf_token") },
        });
        // Kratos itself sends the browser on to the second factor (a JSON browser flow: 422 with the URL).
        assert.equal(first.status, 422, first.text.slice(0, 500));
        assert.equal(first.json.redirect_browser_to, `https://${stack.backofficeHost}/.ory/self-service/login/browser?aal=aal2`);
        const half = await officer.request("/.ory/sessions/whoami");
        assert.equal(half.status, 403, "whoami accepted a password-only session although TOTP is enrolled");
        assert.equal(half.json.error.id, "session_aal2_required");
        const settings = await officer.request("/.ory/self-service/settings/browser");
        assert.equal(settings.status, 403, "settings opened at AAL1");

        const second = await officer.request("/.ory/self-service/login/browser?aal=aal2");
        assert.equal(second.status, 200, second.text.slice(0, 300));
        const wrong = await officer.request(`/.ory/self-service/login?flow=${second.json.id}`, {
            json: { method: "totp", totp_code: totp(totpSecret, Date.now() - 600_000), csrf_token: nodeValue(second.json, "csrf_token") },
        });
        assert.equal(wrong.status, 400, "a stale TOTP code was accepted");
        const done = await officer.request(`/.ory/self-service/login?flow=${second.json.id}`, {
            json: { method: "totp", totp_code: totp(totpSecret), csrf_token: nodeValue(wrong.json, "csrf_token") ?? nodeValue(second.json, "csrf_token") },
        });
        assert.equal(done.status, 200, done.text.slice(0, 500));
        const whoami = await officer.request("/.ory/sessions/whoami");
        assert.equal(whoami.status, 200);
        assert.equal(whoami.json.authenticator_assurance_level, "aal2");
        assert.equal(whoami.json.identity.traits.email, email);
        assert.equal(backofficeSessionAccepted(whoami.status, whoami.json), true);
    });

    it("kratos-health, kratos-login-flow and kratos-admin-hidden pass through the proxy, ui.action under https://<backoffice>/.ory", async () => {
        const report = await runChecks({
            stack: stack.stack, outputs: stackOutputs(), resolve: resolveTo(proxy), caPem: [ca], only: CHECKS, deadlineMs: 20_000, timeoutMs: 5000,
        });
        assert.deepEqual(report.results.map((r) => [r.id, r.status, r.reason ?? ""]), CHECKS.map((id) => [id, "pass", ""]));
        const flow = await browser().request("/.ory/self-service/login/api");
        assert.ok(String(flow.json.ui.action).startsWith(`https://${stack.backofficeHost}/.ory/self-service/login?flow=`), flow.json.ui.action);
    });

    it("the public host answers Kratos' admin-redirecting paths with 404, never with the admin URL", async () => {
        const adminHost = new URL(stack.adminBaseUrl).host;
        const officer = browser();
        for (const p of ["/.ory/admin/identities", "/.ory/admin/health/ready", "/.ory/identities", "/.ory/Admin/identities", "/.ory/%61dmin/identities", "/.ory//admin/identities"]) {
            const res = await officer.request(p);
            assert.equal(res.status, 404, `${p} answered ${res.status}`);
            assert.ok(!JSON.stringify(res.headers).includes(adminHost) && !res.text.includes(adminHost), `${p} revealed ${adminHost}`);
        }
        for (const method of ["POST", "PUT", "DELETE"]) {
            // Kratos' CSRF protection refuses a cookieless write before routing it: 403, equally silent.
            const res = await officer.request("/.ory/admin/identities", { method, json: {} });
            assert.ok([403, 404].includes(res.status), `${method} answered ${res.status}`);
            assert.ok(!JSON.stringify(res.headers).includes(adminHost) && !res.text.includes(adminHost), `${method} revealed ${adminHost}`);
        }
        // The frontend's own paths are untouched, an /admin page of the single-page app included.
        assert.equal((await officer.request("/admin/identities", { headers: { accept: "text/html" } })).status, 200);
    });

    it("before the fix real Kratos reveals the admin URL through the proxy, and kratos-admin-hidden fails on it", async (t) => {
        const adminHost = new URL(stack.adminBaseUrl).host;
        const leak = await new Browser(stack.backofficeHost, preFixProxy.port, ca).request("/.ory/admin/identities");
        assert.equal(leak.status, 307);
        assert.ok(String(leak.headers.location).includes(adminHost), "real Kratos redirects /admin/... to serve.admin.base_url");
        const report = await runChecks({
            stack: stack.stack, outputs: stackOutputs(), resolve: resolveTo(preFixProxy), caPem: [ca], only: ["kratos-admin-hidden"], deadlineMs: 10_000, timeoutMs: 5000,
        });
        const [result] = report.results;
        assert.equal(result.status, "fail", "kratos-admin-hidden passed although /.ory/admin/... redirects to the in-cluster admin URL");
        t.diagnostic(`kratos-admin-hidden: ${result.reason}`);
    });

    it("limits each client's rate on /.ory (503 over the burst), and not the frontend", async (t) => {
        // A proxy of its own: its limit zones have seen no request of the tests above.
        const fresh = await startNginx(realBinary("nginx"), proxyOptions);
        t.after(() => fresh.stop());
        const officer = new Browser(stack.backofficeHost, fresh.port, ca);
        const burst = KRATOS_RATE_LIMITS.rps * KRATOS_RATE_LIMITS.burstMultiplier;
        const statuses: number[] = [];
        // Sequential (the connection limit is not what is measured here), faster than the rate refills.
        for (let i = 0; i < burst * 2; i++) statuses.push((await officer.request("/.ory/health/alive")).status);
        assert.ok(statuses.filter((s) => s === 200).length >= burst, `fewer than the burst passed: ${statuses.join(",")}`);
        assert.ok(statuses.includes(503), `no request was limited: ${statuses.join(",")}`);
        const frontend: number[] = [];
        for (let i = 0; i < burst * 2; i++) frontend.push((await officer.request("/", { headers: { accept: "text/html" } })).status);
        assert.deepEqual([...new Set(frontend)], [200]);
    });

    it("keeps the /.ory limit per real client: a spoofed X-Forwarded-For does not reset it; only a trusted proxy range's is believed", async (t) => {
        const burst = KRATOS_RATE_LIMITS.rps * KRATOS_RATE_LIMITS.burstMultiplier;
        // Every request claims another client in X-Forwarded-For; the connection's peer is always 127.0.0.1.
        const spoofing = async (trustedProxyCidrs: string[] | undefined) => {
            const fresh = await startNginx(realBinary("nginx"), { ...proxyOptions, trustedProxyCidrs });
            try {
                const client = new Browser(stack.backofficeHost, fresh.port, ca);
                const statuses: number[] = [];
                for (let i = 0; i < burst * 2; i++) statuses.push((await client.request("/.ory/health/alive", { headers: { "x-forwarded-for": `198.51.100.${i + 1}` } })).status);
                return statuses;
            } finally {
                await fresh.stop();
            }
        };
        // The default (trustedProxyCidrs empty): the controller believes no forwarded header.
        const none = await spoofing(undefined);
        assert.ok(none.includes(503), `rotating X-Forwarded-For escaped the limit: ${none.join(",")}`);
        // A proxy range that is not this client's address: its header is still not believed.
        const elsewhere = await spoofing(["10.99.0.0/16"]);
        assert.ok(elsewhere.includes(503), `a header from outside the trusted range was believed: ${elsewhere.join(",")}`);
        // The contrast that shows the test can fail: from a trusted range, each forwarded address is its own client.
        const trusted = await spoofing(["127.0.0.0/8"]);
        assert.ok(!trusted.includes(503), `a trusted proxy's clients share one bucket: ${trusted.join(",")}`);
        t.diagnostic(`503s: untrusted ${none.filter((s) => s === 503).length}, other range ${elsewhere.filter((s) => s === 503).length}, trusted ${trusted.filter((s) => s === 503).length} of ${burst * 2}`);
    });

    it("forwards to DCM's API only the allow-list, over HTTPS verified for its name, and refuses an unverified upstream", async (t) => {
        const api = new Browser(String(stack.outputs.apiHost), proxy.port, ca);
        const reached = await api.request("/v1/transfers/7");
        assert.deepEqual([reached.status, reached.json], [404, { error: "not found" }], "DCM's stand-in answers an allow-listed path over verified HTTPS");
        for (const p of ["/", "/v1", "/v1/accounts", "/v1/transfersx", "/admin/identities"]) {
            const res = await api.request(p);
            assert.notDeepEqual(res.json, { error: "not found" }, `${p} reached DCM's API`);
        }
        // An upstream whose certificate another CA signed, for another name: nginx refuses to forward (502).
        const impostorPki = await testPki(["dcm-api.elsewhere.svc.cluster.local"]);
        const impostor = await stubBackend("not-found", { cert: impostorPki.cert, key: impostorPki.key });
        const upstreams = Object.fromEntries(Object.entries(proxyOptions.upstreams).map(([k, v]) => [k, k.startsWith("dcm-api:") ? impostor.port : v]));
        const fresh = await startNginx(realBinary("nginx"), { ...proxyOptions, upstreams });
        t.after(async () => { await fresh.stop(); await impostor.close(); });
        const refused = await new Browser(String(stack.outputs.apiHost), fresh.port, ca).request("/v1/transfers/7");
        assert.equal(refused.status, 502, "an unverified upstream was forwarded to");
    });
});
