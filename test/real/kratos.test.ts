/**
 * The stack's Kratos for real (issue 10): the binary of the version the stack deploys, started from the
 * stack's own render (kratos.yml, identity schema, Secret-filled environment, container args, migrations
 * first), in dev mode on SQLite and on a PostgreSQL of the test's own; and Kratos' own refusal of a broken
 * configuration.
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import { after, before, describe, it } from "node:test";
import { missingComponents } from "../../real/components";
import { KRATOS_COMPONENTS, kratosBinary, renderStack, RenderedStack, RunningKratos, kratosRefusal, startKratos } from "../../support/real/kratos";
import { emulatePod, renderedObject } from "../../support/real/pod";
import { Postgres, startPostgres } from "../../support/real/postgres";
import { freePort, Running, start, waitUntil } from "../../support/real/process";

const missing = missingComponents(KRATOS_COMPONENTS);
const skip = missing.length ? `${missing.join(", ")} not built: run \`npm run real:setup\`` : false;

function getJson(url: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: any; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
        const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
        const req = http.request(url, {
            method: init.method ?? "GET",
            timeout: 10_000,
            headers: { accept: "application/json", ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}) },
        }, (res) => {
            let text = "";
            res.on("data", (c) => { text += c; });
            res.on("end", () => {
                let json: unknown;
                try { json = JSON.parse(text); } catch { json = undefined; }
                resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
            });
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
    });
}

/** What every started Kratos must do: both APIs up, the employee schema served, an employee created. */
async function assertServes(kratos: RunningKratos, email: string): Promise<void> {
    assert.equal((await getJson(`${kratos.adminUrl}/admin/health/ready`)).status, 200);
    assert.equal((await getJson(`${kratos.publicUrl}/health/ready`)).status, 200);
    const schemas = await getJson(`${kratos.publicUrl}/schemas`);
    assert.equal(schemas.status, 200);
    assert.deepEqual(schemas.json.map((s: any) => s.id), ["employee"]);
    const created = await getJson(`${kratos.adminUrl}/admin/identities`, { method: "POST", body: { schema_id: "employee", traits: { email }, state: "active" } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const found = await getJson(`${kratos.adminUrl}/admin/identities?credentials_identifier=${encodeURIComponent(email)}`);
    assert.deepEqual(found.json.map((i: any) => i.id), [created.json.id], "the identity is stored and found by its email");
}

describe("the stack's Kratos, real, in dev mode (SQLite)", { skip }, () => {
    let stack: RenderedStack;
    let kratos: RunningKratos | undefined;
    before(async () => {
        stack = await renderStack("demo");
        kratos = await startKratos(stack);
    });
    after(async () => { await kratos?.stop(); });

    it("starts from the rendered kratos.yml, schema and environment, after the rendered migration command", async () => {
        assert.equal(stack.kratosConfig.dsn, undefined, "the DSN is not in kratos.yml but in the Secret");
        await assertServes(kratos!, "officer@demo-bank.example");
    });

    it("builds its public URLs under https://<backoffice host>/.ory, the base URL the checks expect", async () => {
        const flow = await getJson(`${kratos!.publicUrl}/self-service/login/api`);
        assert.equal(flow.status, 200);
        assert.ok(flow.json.ui.action.startsWith(`https://${stack.backofficeHost}/.ory/self-service/login?flow=`), flow.json.ui.action);
    });
    it("answers the case variants of its admin-redirecting paths (which pass the Gateway API's case-sensitive hidden rule) without the admin address", async () => {
        // The edge strips /.ory: Kratos public sees these. Its lowercase /admin/... and /identities redirect to the
        // admin URL (hence the hidden rule); the other cases must not.
        const revealed: string[] = [];
        for (const p of ["/ADMIN/identities", "/Admin/health/ready", "/Identities", "/IDENTITIES/x", "/aDmin/identities"]) {
            for (const method of ["GET", "POST"]) {
                const res = await fetch(`${kratos!.publicUrl}${p}`, { method, redirect: "manual" });
                const text = `${res.headers.get("location") ?? ""} ${await res.text()}`;
                if (/kratos-admin|:4434|127\.0\.0\.1:\d+\/admin/.test(text) || text.includes(kratos!.adminUrl)) revealed.push(`${method} ${p} -> ${res.status} ${res.headers.get("location") ?? ""}`);
            }
        }
        assert.deepEqual(revealed, []);
        // The lowercase path does reveal it: what the hidden rule is for (and why this test can fail).
        const lower = await fetch(`${kratos!.publicUrl}/admin/identities`, { redirect: "manual" });
        assert.match(lower.headers.get("location") ?? "", new RegExp(`^${stack.adminBaseUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    });
});

describe("the stack's Kratos, real, on PostgreSQL", { skip: skip || (missingComponents(["postgres-bin"]).length ? "postgres-bin not installed: run `npm run real:setup`" : false) }, () => {
    let stack: RenderedStack;
    let postgres: Postgres | undefined;
    let kratos: RunningKratos | undefined;
    before(async () => {
        // dnipro: production mode; its secret DSN is the render's placeholder, replaced by the test database's.
        stack = await renderStack("dnipro");
        postgres = await startPostgres();
        // The server never sends mail here; the courier, which would, runs in its own Deployment.
        kratos = await startKratos(stack, { dsn: postgres.dsn, env: { COURIER_SMTP_CONNECTION_URI: "smtps://kratos:unused@127.0.0.1:465/" } });
    });
    after(async () => {
        await kratos?.stop();
        await postgres?.stop();
    });

    it("migrates the empty database with the rendered migration command, then serves", async () => {
        assert.match(kratos!.output(), /(Successfully applied|Applying) (all )?(SQL )?migrations|migrat/i);
        await assertServes(kratos!, "o.kovalenko@dniprobank.com.ua");
    });

    it("runs the rendered courier, whose metrics endpoint its probes ask, on the same database", async () => {
        const pod = emulatePod(stack.resources, "Deployment", "kratos-courier");
        let courier: Running | undefined;
        try {
            const c = pod.container("kratos-courier");
            const probe = renderedObject(stack.resources, "Deployment", "kratos-courier").spec.template.spec.containers[0].readinessProbe.httpGet.path;
            const port = await freePort();
            const args = c.args.map((a: string, i: number) => (c.args[i - 1] === "--expose-metrics-port" ? String(port) : a));
            assert.notDeepEqual(args, c.args, "the courier is rendered with --expose-metrics-port");
            courier = start(kratosBinary(), args, {
                env: { PATH: process.env.PATH ?? "", SQA_OPT_OUT: "true", ...c.env, DSN: postgres!.dsn, COURIER_SMTP_CONNECTION_URI: "smtps://kratos:unused@127.0.0.1:465/" },
            });
            const proc = courier;
            await waitUntil("the courier's metrics", async () => (await getJson(`http://127.0.0.1:${port}${probe}`).catch(() => ({ status: 0 }))).status === 200, proc, 60_000);
        } finally {
            await courier?.stop();
            pod.cleanup();
        }
    });
});

describe("a broken configuration, refused by Kratos itself", { skip }, () => {
    let stack: RenderedStack;
    before(async () => { stack = await renderStack("demo"); });

    it("refuses a cipher secret that is not 32 characters, and says why", async (t) => {
        const r = await kratosRefusal(stack, { env: { SECRETS_CIPHER: "k".repeat(31) } });
        assert.notEqual(r.code, 0, "Kratos started with a 31-character cipher secret");
        const error = /^Error: .*$/m.exec(r.output)?.[0] ?? "";
        assert.match(error, /#\/secrets\/cipher\/0.*length must be >= 32, but got 31/, r.output);
        // Only the error line: Kratos' own report above it quotes the offending value, here a secret.
        t.diagnostic(`Kratos: ${error}`);
    });

    it("refuses whoami at aal2: why the frontend, not Kratos, requires a second factor of an employee who has none", async (t) => {
        const r = await kratosRefusal(stack, { editConfig: (c) => { c.session.whoami.required_aal = "aal2"; } });
        assert.notEqual(r.code, 0, "Kratos started with session.whoami.required_aal: aal2");
        const error = /^Error: .*$/m.exec(r.output)?.[0] ?? "";
        assert.match(error, /#\/session\/whoami\/required_aal/, r.output);
        t.diagnostic(`Kratos: ${error}`);
    });

    it("refuses an unknown key in kratos.yml, and names it", async (t) => {
        const r = await kratosRefusal(stack, { editConfig: (c) => { c.selfservice.flows.registration.enabeld = false; } });
        assert.notEqual(r.code, 0, "Kratos started with a misspelt key");
        const error = /^Error: .*$/m.exec(r.output)?.[0] ?? "";
        assert.match(error, /#\/selfservice\/flows\/registration.*additionalProperties "enabeld" not allowed/, r.output);
        t.diagnostic(`Kratos: ${error}`);
    });
});

/** The `next` page's token from a Link header (keyset pagination). */
function nextPageToken(link: string | string[] | undefined): string | undefined {
    const next = String(link ?? "").split(",").find((part) => /rel="?next"?/.test(part));
    const url = next && /<([^>]+)>/.exec(next)?.[1];
    return url ? new URL(url, "http://kratos").searchParams.get("page_token") ?? undefined : undefined;
}

/** Queues two recovery emails for one new employee (self-service recovery, API flows) and returns a page token of the courier's list. */
async function courierPageToken(kratos: RunningKratos, email: string): Promise<string> {
    const created = await getJson(`${kratos.adminUrl}/admin/identities`, { method: "POST", body: { schema_id: "employee", traits: { email }, state: "active" } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    for (let i = 0; i < 2; i++) {
        const flow = await getJson(`${kratos.publicUrl}/self-service/recovery/api`);
        assert.equal(flow.status, 200, JSON.stringify(flow.json));
        const sent = await getJson(`${kratos.publicUrl}/self-service/recovery?flow=${flow.json.id}`, { method: "POST", body: { method: "code", email } });
        assert.equal(sent.status, 200, JSON.stringify(sent.json));
    }
    const page = await getJson(`${kratos.adminUrl}/admin/courier/messages?page_size=1`);
    assert.equal(page.status, 200, JSON.stringify(page.json));
    assert.equal(page.json.length, 1);
    const token = nextPageToken(page.headers.link);
    assert.ok(token, `no next page in the Link header: ${String(page.headers.link)}`);
    return token;
}

describe("page tokens under the bank's own pagination key (GO-2026-4801)", { skip }, () => {
    let stack: RenderedStack;
    let bank: RunningKratos | undefined;
    let unkeyed: RunningKratos | undefined;
    before(async () => {
        stack = await renderStack("demo");
        bank = await startKratos(stack);
        // The same Kratos without secrets.pagination: it encrypts page tokens with the all-zero key, as an attacker can.
        unkeyed = await startKratos(stack, { dropEnv: ["SECRETS_PAGINATION"] });
    });
    after(async () => {
        await bank?.stop();
        await unkeyed?.stop();
    });

    it("hands out page tokens under the bank's own key, which a Kratos without the secret (the all-zero key) cannot read", async () => {
        const zeroKey = await courierPageToken(unkeyed!, "forger@demo-bank.example");
        const own = await courierPageToken(bank!, "officer@demo-bank.example");
        const list = (k: RunningKratos, token: string) => getJson(`${k.adminUrl}/admin/courier/messages?page_size=1&page_token=${encodeURIComponent(token)}`);
        assert.equal((await list(unkeyed!, zeroKey)).status, 200, "without the secret, tokens are sealed with the all-zero key anyone has");
        const next = await list(bank!, own);
        assert.equal(next.status, 200, JSON.stringify(next.json));
        assert.equal(next.json.length, 1, "its own token gives the second page");
        assert.equal((await list(unkeyed!, own)).status, 400, "the bank's tokens are sealed with the all-zero key: secrets.pagination did not reach Kratos");
        // What the secret does not do in v26.2.0: on input Kratos still tries the all-zero key last (ory/x
        // keysetpagination_v2 ParsePageToken), so a zero-key token is read. The advisory's fix is v26.2.0 itself,
        // which quotes the token's column names in SQL; this pins that behaviour so a change to it is noticed.
        assert.equal((await list(bank!, zeroKey)).status, 200, "v26.2.0 no longer reads zero-key page tokens: update docs/security.md");
    });
});

describe("the recovery code's expires_in, which the bootstrap Job relies on", { skip }, () => {
    let kratos: RunningKratos | undefined;
    const LIFESPAN_S = 3;
    before(async () => {
        // The rendered config with the recovery flow's and the code method's lifespans cut from 1h to 3 s: the
        // bootstrap's 24h code must outlive them (expires_in wins), and a code must die at its own expires_in.
        kratos = await startKratos(await renderStack("demo"), {
            editConfig: (c) => {
                c.selfservice.flows.recovery.lifespan = `${LIFESPAN_S}s`;
                c.selfservice.methods.code.config = { ...c.selfservice.methods.code.config, lifespan: `${LIFESPAN_S}s` };
            },
        });
    });
    after(async () => { await kratos?.stop(); });

    async function codeFor(email: string, expiresIn: string): Promise<{ flow: string; code: string; expiresAt: number }> {
        const created = await getJson(`${kratos!.adminUrl}/admin/identities`, { method: "POST", body: { schema_id: "employee", traits: { email }, state: "active" } });
        assert.equal(created.status, 201, JSON.stringify(created.json));
        const r = await getJson(`${kratos!.adminUrl}/admin/recovery/code`, { method: "POST", body: { identity_id: created.json.id, expires_in: expiresIn } });
        assert.equal(r.status, 201, JSON.stringify(r.json));
        return { flow: new URL(r.json.recovery_link).searchParams.get("flow")!, code: r.json.recovery_code, expiresAt: Date.parse(r.json.expires_at) };
    }
    const use = (c: { flow: string; code: string }) =>
        getJson(`${kratos!.publicUrl}/self-service/recovery?flow=${c.flow}`, { method: "POST", body: { method: "code", code: c.code } });
    const settingsUrl = (a: { json: any }): string | undefined =>
        a.json?.redirect_browser_to ?? a.json?.continue_with?.find((c: any) => c.action === "show_settings_ui")?.flow?.url;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it("a code issued for 1h works after the configured lifespans have passed, and says it expires in 1h", async () => {
        const c = await codeFor("long.code@demo-bank.example", "1h");
        const lifetime = c.expiresAt - Date.now();
        assert.ok(lifetime > 3590_000 && lifetime <= 3600_000, `expires_at is ${lifetime} ms away, not 1h`);
        const flow = await getJson(`${kratos!.publicUrl}/self-service/recovery/flows?id=${c.flow}`);
        assert.equal(Date.parse(flow.json.expires_at), c.expiresAt, "the flow expires with the code");
        await sleep((LIFESPAN_S + 2) * 1000);
        const used = await use(c);
        assert.ok(settingsUrl(used), `the 1h code was refused after ${LIFESPAN_S + 2} s: ${used.status} ${JSON.stringify(used.json).slice(0, 400)}`);
    });

    it("a code issued for 2s is refused after 2s", async (t) => {
        const c = await codeFor("short.code@demo-bank.example", "2s");
        assert.ok(c.expiresAt - Date.now() <= 2000, "expires_at is later than 2s");
        await sleep(4000);
        const used = await use(c);
        assert.equal(settingsUrl(used), undefined, "an expired code opened settings");
        assert.notEqual(used.status, 200);
        t.diagnostic(`Kratos on the expired code: ${used.status} ${used.json?.error?.id ?? ""}`);
    });

    it("refuses an expires_in that is not a future duration", async () => {
        const created = await getJson(`${kratos!.adminUrl}/admin/identities`, { method: "POST", body: { schema_id: "employee", traits: { email: "bad.code@demo-bank.example" }, state: "active" } });
        for (const expiresIn of ["0s", "-1h", "one day"]) {
            const r = await getJson(`${kratos!.adminUrl}/admin/recovery/code`, { method: "POST", body: { identity_id: created.json.id, expires_in: expiresIn } });
            assert.equal(r.status, 400, `expires_in ${expiresIn}: ${r.status}`);
        }
    });
});
