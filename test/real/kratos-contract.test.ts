/**
 * The contracts between the unit tests' fake Kratoses and real Kratos. The bootstrap's fake admin API
 * (support/fake-kratos.ts): the same exchanges the bootstrap makes, sent to both, must come back with the
 * same statuses, the same JSON shape (every path and its type, both ways) and the same values where the
 * bootstrap reads them; a fake that drifts (issue 10: the `password` credential it left out) fails here. The
 * post-deploy checks' fake Kratos public (support/checks/environment.ts): what it answers must be
 * what Kratos answers, in status and in every path and type it sends (it may send less, never other).
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as https from "node:https";
import { after, before, describe, it } from "node:test";
import { missingComponents } from "../../real/components";
import { FakeKratos } from "../../support/fake-kratos";
import { LoopbackEnv, startEnvironment } from "../../support/checks/environment";
import { KRATOS_COMPONENTS, renderStack, RenderedStack, RunningKratos, startKratos } from "../../support/real/kratos";

const missing = missingComponents(KRATOS_COMPONENTS);
const skip = missing.length ? `${missing.join(", ")} not built: run \`npm run real:setup\`` : false;

interface Exchange {
    step: string;
    status: number;
    body: unknown;
}

/** Every JSON path with its type (`[]` for array items), e.g. `credentials.password.config.hashed_password:string`. */
function shape(value: unknown, prefix = "", into = new Set<string>(), depth = 0): Set<string> {
    if (depth > 20) throw new Error("JSON nested deeper than 20");
    const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
    into.add(`${prefix || "."}:${type}`);
    if (Array.isArray(value)) for (const v of value) shape(v, `${prefix}[]`, into, depth + 1);
    else if (type === "object") for (const [k, v] of Object.entries(value as object)) shape(v, prefix ? `${prefix}.${k}` : k, into, depth + 1);
    return into;
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${base}${path}`, {
        method,
        headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = text;
    try { json = JSON.parse(text); } catch { /* not JSON: compared as text */ }
    return { status: res.status, body: json };
}

/** The bootstrap's exchanges, and the officer's password between two of them. */
async function scenario(base: string, setPassword: (id: string) => Promise<void>, email: string): Promise<Exchange[]> {
    const out: Exchange[] = [];
    const step = async (name: string, method: string, path: string, body?: unknown) => {
        const r = await call(base, method, path, body);
        out.push({ step: name, ...r });
        return r;
    };
    const lookup = `/admin/identities?credentials_identifier=${encodeURIComponent(email)}`;
    await step("ready", "GET", "/admin/health/ready");
    await step("lookup before creation", "GET", lookup);
    const created = await step("create", "POST", "/admin/identities", { schema_id: "employee", traits: { email }, state: "active" });
    const id = (created.body as { id: string }).id;
    await step("create again", "POST", "/admin/identities", { schema_id: "employee", traits: { email }, state: "active" });
    await step("lookup after creation", "GET", lookup);
    await step("get with password credential, none set", "GET", `/admin/identities/${id}?include_credential=password`);
    await step("get", "GET", `/admin/identities/${id}`);
    await step("recovery code", "POST", "/admin/recovery/code", { identity_id: id, expires_in: "24h" });
    await step("recovery code, unknown identity", "POST", "/admin/recovery/code", { identity_id: crypto.randomUUID(), expires_in: "1h" });
    await step("recovery code, expires_in not a duration", "POST", "/admin/recovery/code", { identity_id: id, expires_in: "one day" });
    await step("recovery code, expires_in 0s", "POST", "/admin/recovery/code", { identity_id: id, expires_in: "0s" });
    await step("get unknown identity", "GET", `/admin/identities/${crypto.randomUUID()}`);
    await setPassword(id);
    await step("get with password credential, password set", "GET", `/admin/identities/${id}?include_credential=password`);
    await step("lookup with password credential", "GET", `${lookup}&include_credential=password`);
    return out;
}

describe("the fake Kratos admin API against real Kratos", { skip }, () => {
    let stack: RenderedStack;
    let kratos: RunningKratos | undefined;
    let fake: FakeKratos | undefined;
    let real: Exchange[];
    let imitated: Exchange[];
    const email = "contract.officer@demo-bank.example";

    before(async () => {
        stack = await renderStack("demo");
        kratos = await startKratos(stack);
        fake = new FakeKratos({ recoveryUiUrl: stack.kratosConfig.selfservice.flows.recovery.ui_url, publicBaseUrl: stack.kratosConfig.serve.public.base_url });
        await fake.listen();
        real = await scenario(kratos.adminUrl, async (id) => {
            const current = await call(kratos!.adminUrl, "GET", `/admin/identities/${id}`);
            const identity = current.body as any;
            const put = await call(kratos!.adminUrl, "PUT", `/admin/identities/${id}`, {
                schema_id: identity.schema_id, traits: identity.traits, state: identity.state,
                credentials: { password: { config: { password: `Contract-${crypto.randomBytes(12).toString("hex")}` } } },
            });
            assert.equal(put.status, 200, JSON.stringify(put.body));
        }, email);
        imitated = await scenario(fake.url, async (id) => fake!.setPassword(id), email);
    });
    after(async () => {
        await kratos?.stop();
        await fake?.close();
    });

    it("answers every exchange with the same status", () => {
        assert.deepEqual(imitated.map((e) => [e.step, e.status]), real.map((e) => [e.step, e.status]));
    });

    it("answers with the same JSON shape: every path and type real Kratos sends, and none it does not", () => {
        const differences: string[] = [];
        for (const [i, r] of real.entries()) {
            const [want, got] = [shape(r.body), shape(imitated[i].body)];
            for (const p of want) if (!got.has(p)) differences.push(`${r.step}: the fake lacks ${p}`);
            for (const p of got) if (!want.has(p)) differences.push(`${r.step}: the fake invents ${p}`);
        }
        assert.deepEqual(differences, []);
    });

    it("gives the values the bootstrap reads as Kratos gives them", () => {
        const by = (list: Exchange[], step: string) => list.find((e) => e.step === step)!.body as any;
        for (const list of [real, imitated]) {
            const fresh = by(list, "get with password credential, none set");
            // The regression of issue 10: a password credential with the identifier from creation, but no hash.
            assert.deepEqual(fresh.credentials.password.identifiers, [email]);
            assert.equal(fresh.credentials.password.config?.hashed_password, undefined);
            assert.match(by(list, "get with password credential, password set").credentials.password.config.hashed_password, /^\$2a\$12\$/);
            assert.equal(by(list, "lookup after creation")[0].traits.email, email);
            const code = by(list, "recovery code");
            const link = new URL(code.recovery_link);
            assert.equal(`${link.origin}${link.pathname}`, stack.kratosConfig.selfservice.flows.recovery.ui_url);
            assert.match(link.searchParams.get("flow") ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
            assert.match(code.recovery_code, /^\d{6}$/);
            const lifetime = Date.parse(code.expires_at) - Date.now();
            assert.ok(lifetime > 23.9 * 3600_000 && lifetime <= 24 * 3600_000, `expires_at ${code.expires_at}`);
            assert.match(by(list, "recovery code, expires_in not a duration").error.reason, /^Unable to parse "expires_in" .* but did not: one day$/);
            assert.equal(by(list, "recovery code, expires_in 0s").error.reason, 'Value from "expires_in" must result to a future time: 0s');
        }
    });
});

/** GET through the checks' loopback environment: the host's name for TLS, its loopback port for the socket. */
function envGet(env: LoopbackEnv, url: string): Promise<{ status: number; body: unknown }> {
    const u = new URL(url);
    const entry = env.resolve.find((r) => r.startsWith(`${u.hostname}:443:`));
    if (!entry) throw new Error(`the environment does not serve ${u.hostname}`);
    const port = Number(entry.split(":")[3]);
    return new Promise((resolve, reject) => {
        https.get({ host: "127.0.0.1", port, servername: u.hostname, ca: env.caPem, path: u.pathname + u.search, headers: { host: u.hostname, accept: "application/json" } }, (res) => {
            let text = "";
            res.on("data", (c) => { text += c; });
            res.on("end", () => {
                let body: unknown = text;
                try { body = JSON.parse(text); } catch { /* compared as text */ }
                resolve({ status: res.statusCode ?? 0, body });
            });
        }).on("error", reject);
    });
}

describe("the post-deploy checks' fake Kratos public against real Kratos", { skip }, () => {
    let kratos: RunningKratos | undefined;
    let env: LoopbackEnv | undefined;
    let exposed: LoopbackEnv | undefined;
    before(async () => {
        kratos = await startKratos(await renderStack("demo"));
        env = await startEnvironment();
        exposed = await startEnvironment({ faults: { backoffice: { adminExposed: true } } });
    });
    after(async () => {
        await kratos?.stop();
        await env?.close();
        await exposed?.close();
    });

    /** The fake's answer must be Kratos' in status, and send no path or type Kratos does not. */
    const holds = (what: string, fake: { status: number; body: unknown }, real: { status: number; body: unknown }) => {
        assert.equal(fake.status, real.status, `${what}: status`);
        const want = shape(real.body);
        assert.deepEqual([...shape(fake.body)].filter((p) => !want.has(p)), [], `${what}: the fake sends what Kratos does not`);
    };

    it("answers /health/ready and /self-service/login/api as Kratos does, ui.action under the public base URL", async () => {
        const base = String(env!.outputs.kratosPublicUrl ?? `https://${String(env!.outputs.backofficeHost)}/.ory`);
        holds("health", await envGet(env!, `${base}/health/ready`), await call(kratos!.publicUrl, "GET", "/health/ready"));
        const fake = await envGet(env!, `${base}/self-service/login/api`);
        const real = await call(kratos!.publicUrl, "GET", "/self-service/login/api");
        holds("login flow", fake, real);
        assert.ok(String((fake.body as any).ui.action).startsWith(`${base}/self-service/login?flow=`));
        assert.ok(String((real.body as any).ui.action).includes("/.ory/self-service/login?flow="));
    });

    it("imitates an exposed admin API with what Kratos admin answers to GET /admin/identities", async () => {
        const base = `https://${String(exposed!.outputs.backofficeHost)}/.ory`;
        holds("admin identities", await envGet(exposed!, `${base}/admin/identities`), await call(kratos!.adminUrl, "GET", "/admin/identities"));
    });
});
