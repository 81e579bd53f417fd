// @ts-check
// First-employee bootstrap (plan steps 9 and 11), run by the Job of components/first-employee.ts in the
// bank's namespace. Idempotent: it looks the employee up by email before creating them, issues a recovery
// code only while no password is set and no unexpired one is stored, and keeps the recovery link in a
// Kubernetes Secret (never in logs), removing it once the password is set.
// Plain CommonJS for the stock Node.js image: no dependency, no build step. Type-checked from its JSDoc
// (`// @ts-check`, tsconfig.json allowJs) and linted with the rest of the project.
"use strict";
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");

/**
 * A required environment variable.
 * @param {string} name
 * @returns {string}
 */
const env = (name) => {
    const v = process.env[name];
    if (!v) throw new Error(`environment variable ${name} is required`);
    return v;
};

/**
 * Kratos admin by its Service's cluster address, from the variables Kubernetes sets in every pod for each
 * Service of its namespace (<NAME>_SERVICE_HOST, <NAME>_SERVICE_PORT): the pod has no DNS (a channel out
 * of the cluster, and this pod holds the recovery link).
 * @param {string} service the Service's name, e.g. kratos-admin
 * @returns {string} its base URL, e.g. http://10.96.12.34:4434
 */
function serviceUrl(service) {
    const prefix = service.toUpperCase().replace(/-/g, "_");
    const host = env(`${prefix}_SERVICE_HOST`);
    return `http://${host.includes(":") ? `[${host}]` : host}:${env(`${prefix}_SERVICE_PORT`)}`;
}
const adminUrl = serviceUrl(env("KRATOS_ADMIN_SERVICE"));
const email = env("EMPLOYEE_EMAIL").toLowerCase();
const schemaId = process.env.IDENTITY_SCHEMA_ID || "employee";
const namespace = env("POD_NAMESPACE");
const secretName = env("RECOVERY_SECRET_NAME");
const expiresIn = process.env.RECOVERY_EXPIRES_IN || "24h";
/** A recovery link lives at most this long (a bank's security rule), whatever the environment asks. */
const MAX_EXPIRES_IN_S = 24 * 3600;
/** A stored link expiring sooner than this is replaced by a fresh one rather than handed to the officer. */
const REISSUE_MARGIN_MS = 3600_000;
const saDir = process.env.SERVICE_ACCOUNT_DIR || "/var/run/secrets/kubernetes.io/serviceaccount";
const apiUrl = process.env.KUBERNETES_API_URL ||
    `https://${env("KUBERNETES_SERVICE_HOST")}:${process.env.KUBERNETES_SERVICE_PORT || "443"}`;
const attempts = Number(process.env.READY_ATTEMPTS || "30");
const retryDelayMs = Number(process.env.READY_DELAY_MS || "2000");

/**
 * Seconds of a duration as Kratos' `expires_in` takes it (Go's `1h30m`), or NaN when it is not one.
 * @param {string} text
 * @returns {number}
 */
function durationSeconds(text) {
    if (!/^(\d+(h|m|s))+$/.test(text)) return NaN;
    /** @type {Record<string, number>} */
    const unit = { h: 3600, m: 60, s: 1 };
    return [...text.matchAll(/(\d+)(h|m|s)/g)].reduce((sum, [, n, u]) => sum + Number(n) * unit[u], 0);
}
function checkExpiresIn() {
    const seconds = durationSeconds(expiresIn);
    if (!(seconds > 0 && seconds <= MAX_EXPIRES_IN_S)) {
        throw new Error(`RECOVERY_EXPIRES_IN must be a duration like 24h or 90m, more than 0 and at most 24h, got '${expiresIn}'`);
    }
}

/**
 * @typedef {object} RequestOptions
 * @property {string} [method] HTTP method; GET by default.
 * @property {Record<string, string>} [headers] Extra request headers.
 * @property {unknown} [body] Sent as JSON.
 * @property {Buffer} [ca] The CA to trust (the API server's).
 */
/**
 * @typedef {object} Answer
 * @property {number | undefined} status The HTTP status.
 * @property {any} json The body parsed as JSON, or undefined when it is not JSON.
 */
/**
 * One HTTP(S) exchange; the body is parsed as JSON when it is JSON. Never logs bodies: they may hold the link.
 * @param {string} url
 * @param {RequestOptions} [options]
 * @returns {Promise<Answer>}
 */
function request(url, { method = "GET", headers = {}, body, ca } = {}) {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const client = u.protocol === "https:" ? https : http;
        const req = client.request(u, {
            method,
            ca,
            timeout: 10000,
            headers: { accept: "application/json", ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}), ...headers },
        }, (res) => {
            /** @type {Buffer[]} */
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                let json;
                try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
                resolve({ status: res.statusCode, json });
            });
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${u.pathname}: timed out`)));
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
    });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForKratos() {
    for (let i = 1; i <= attempts; i++) {
        try {
            const r = await request(`${adminUrl}/admin/health/ready`);
            if (r.status === 200) return;
        } catch { /* not up yet */ }
        if (i < attempts) await sleep(retryDelayMs);
    }
    throw new Error(`Kratos admin API not ready after ${attempts} attempts`);
}

async function findIdentity() {
    const r = await request(`${adminUrl}/admin/identities?credentials_identifier=${encodeURIComponent(email)}`);
    if (r.status !== 200 || !Array.isArray(r.json)) throw new Error(`looking up the employee: Kratos answered ${r.status}`);
    return r.json.find((/** @type {any} */ i) => i && i.traits && String(i.traits.email).toLowerCase() === email);
}

async function ensureIdentity() {
    const existing = await findIdentity();
    if (existing) return { id: existing.id, created: false };
    const r = await request(`${adminUrl}/admin/identities`, {
        method: "POST",
        body: { schema_id: schemaId, traits: { email }, state: "active" },
    });
    if (r.status === 201 && r.json && r.json.id) return { id: r.json.id, created: true };
    if (r.status === 409) {
        // Created concurrently (a retried pod): the lookup finds it now.
        const again = await findIdentity();
        if (again) return { id: again.id, created: false };
    }
    throw new Error(`creating the employee: Kratos answered ${r.status}`);
}

/**
 * Whether the employee has set a password. Not the presence of a `password` credential: Kratos gives every
 * identity whose schema marks email as a password identifier one at creation, with the identifier and an
 * empty config (identity/extension_credentials.go). Only a set password puts a hash in that config, and only
 * `include_credential=password` shows the config at all.
 */
/** @param {string} id the identity's id */
async function hasPassword(id) {
    const r = await request(`${adminUrl}/admin/identities/${encodeURIComponent(id)}?include_credential=password`);
    if (r.status !== 200 || !r.json) throw new Error(`reading the employee: Kratos answered ${r.status}`);
    const password = r.json.credentials && r.json.credentials.password;
    const config = password && password.config;
    return Boolean(config && typeof config.hashed_password === "string" && config.hashed_password !== "");
}

/**
 * A fresh recovery code for the identity.
 * @param {string} id the identity's id
 * @returns {Promise<{ recovery_link: string, recovery_code: string, expires_at: string }>}
 */
async function recoveryCode(id) {
    const r = await request(`${adminUrl}/admin/recovery/code`, { method: "POST", body: { identity_id: id, expires_in: expiresIn } });
    if (r.status !== 201 || !r.json || !r.json.recovery_link) throw new Error(`creating the recovery code: Kratos answered ${r.status}`);
    return r.json;
}

const SECRET_KEYS = ["status", "email", "identity_id", "recovery_link", "recovery_code", "expires_at"];
const secretUrl = () => `${apiUrl}/api/v1/namespaces/${namespace}/secrets/${secretName}`;
const apiAuth = () => ({
    ca: fs.readFileSync(`${saDir}/ca.crt`),
    headers: { authorization: `Bearer ${fs.readFileSync(`${saDir}/token`, "utf8").trim()}` },
});

/**
 * The Secret's decoded data (only the keys this script writes).
 * @returns {Promise<Record<string, string>>}
 */
async function readSecret() {
    const { ca, headers } = apiAuth();
    const r = await request(secretUrl(), { ca, headers });
    if (r.status !== 200 || !r.json) throw new Error(`reading Secret ${namespace}/${secretName}: the API server answered ${r.status}`);
    const data = r.json.data || {};
    return Object.fromEntries(SECRET_KEYS.filter((k) => typeof data[k] === "string").map((k) => [k, Buffer.from(data[k], "base64").toString("utf8")]));
}

/**
 * Replaces the Secret's data (merge patch; absent keys are removed) with the ServiceAccount's token.
 * @param {Record<string, string | undefined>} values
 */
async function writeSecret(values) {
    const { ca, headers } = apiAuth();
    const data = Object.fromEntries(SECRET_KEYS.map((k) => [k, values[k] === undefined ? null : Buffer.from(String(values[k])).toString("base64")]));
    const r = await request(secretUrl(), {
        method: "PATCH",
        ca,
        headers: { ...headers, "content-type": "application/merge-patch+json" },
        body: { data },
    });
    if (r.status !== 200) throw new Error(`writing Secret ${namespace}/${secretName}: the API server answered ${r.status}`);
}

/**
 * A stored link for this identity that is still good for a while: handing it out again changes nothing.
 * @param {Record<string, string>} stored the Secret's decoded data
 * @param {string} identityId
 * @returns {boolean}
 */
function usableStoredLink(stored, identityId) {
    const expiresAt = Date.parse(stored.expires_at || "");
    return stored.status === "recovery-pending" && stored.identity_id === identityId && Boolean(stored.recovery_link) &&
        Boolean(stored.recovery_code) && expiresAt - Date.now() > REISSUE_MARGIN_MS;
}

async function main() {
    checkExpiresIn();
    await waitForKratos();
    const identity = await ensureIdentity();
    console.log(`employee identity ${identity.id} ${identity.created ? "created" : "already exists"}`);
    const stored = await readSecret();
    if (await hasPassword(identity.id)) {
        // The link is spent or useless now: it leaves the Secret.
        if (stored.status !== "password-set" || stored.recovery_link || stored.recovery_code || stored.identity_id !== identity.id) {
            await writeSecret({ status: "password-set", email, identity_id: identity.id });
        }
        console.log("the employee has set a password: no recovery code issued, none stored");
        return;
    }
    if (usableStoredLink(stored, identity.id)) {
        console.log(`the recovery code in Secret ${namespace}/${secretName} is still valid (expires ${stored.expires_at}): nothing changed`);
        return;
    }
    const code = await recoveryCode(identity.id);
    await writeSecret({
        status: "recovery-pending", email, identity_id: identity.id,
        recovery_link: code.recovery_link, recovery_code: code.recovery_code, expires_at: code.expires_at,
    });
    console.log(`recovery code issued (expires ${code.expires_at}); stored in Secret ${namespace}/${secretName}`);
}

main().catch((err) => {
    console.error(`first-employee bootstrap failed: ${err.message}`);
    process.exitCode = 1;
});
