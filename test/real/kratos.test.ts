/**
 * The stack's Kratos for real (issue 10): the binary of the version the stack deploys, started from the
 * stack's own render (kratos.yml, identity schema, Secret-filled environment, container args, migrations
 * first), in dev mode on SQLite and on a PostgreSQL of the test's own; and Kratos' own refusal of a broken
 * configuration.
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import { after, before, describe, it } from "node:test";
import { missingComponents } from "../../scripts/lib/real/components";
import { KRATOS_COMPONENTS, renderStack, RenderedStack, RunningKratos, kratosRefusal, startKratos } from "./support/kratos";
import { Postgres, startPostgres } from "./support/postgres";

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
