/**
 * Properties of the bank's edge in both routing modes (issue 26; issue 23's api-host row), over thousands of
 * generated request paths: every host is served over TLS and plain HTTP never reaches a backend; every HTTPS
 * answer carries HSTS; Kratos' admin API and its admin-redirecting paths are never reached; DCM's API gets only
 * the allow-list, over verified TLS. test/helpers/edge-model.ts reads the rendered objects as the specs say.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { DEFAULT_DCM_API_PATHS } from "../../domain/routing";
import { KRATOS_ADMIN_REDIRECT_PREFIXES } from "../../components/integration-hosts";
import { KubernetesObject, manifestsYaml, plainObjects } from "../../scripts/lib/engine/manifests";
import { schemaProblems } from "../../scripts/lib/engine/kubernetes-schema";
import { route } from "../../support/edge-model";
import { render } from "../../support/render";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

const HOSTS = { backoffice: "backoffice-demo-integrate.dcm.example.com", api: "api-demo-integrate.dcm.example.com" };
const DCM = { service: "dcm-api", namespace: "dcm-platform" };

/** A deterministic generator (mulberry32): the same paths every run, so a failure names a path that reproduces. */
function generator(seed: number) {
    let a = seed;
    return () => {
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
const SEGMENTS = [".ory", ".Ory", "admin", "Admin", "ADMIN", "identities", "Identities", "v1", "V1", "transfers", "transfersx", "customers", "customer-secrets",
    "identifier-requests", "self-service", "login", ".well-known", "jwks.json", "health", "..", "", "x", "%2e", "sessions", "whoami", "admin-ui"];
function paths(count: number, seed = 26): string[] {
    const next = generator(seed);
    const out = new Set<string>(["/", "/.ory", "/.ory/", "/.ory/admin", "/.ory/identities", "/.ory/admin/identities", "/.ory/identities/1/credentials",
        "/v1", "/v1/", "/.well-known/jwks.json", "/.well-known/jwks.jsonx", ...DEFAULT_DCM_API_PATHS, ...DEFAULT_DCM_API_PATHS.map((p) => `${p}/42`)]);
    while (out.size < count) {
        const n = 1 + Math.floor(next() * 4);
        out.add(`/${Array.from({ length: n }, () => SEGMENTS[Math.floor(next() * SEGMENTS.length)]).join("/")}${next() < 0.1 ? "/" : ""}`);
    }
    return [...out];
}
const PATHS = paths(1500);

const MODES = [
    { name: "gateway-api (default)", overrides: {} },
    { name: "gateway-api, self-signed, Envoy Gateway rate limit behind a proxy", overrides: { tlsMode: "self-signed", edgeRateLimit: "envoy-gateway", trustedProxyCidrs: ["10.20.0.0/16"] } },
    { name: "gateway-api, a Gateway per bank (no ListenerSet, e.g. Traefik v3.7)", overrides: { gatewayListeners: "bank-gateway", gatewayClassName: "traefik" } },
    { name: "gateway-api, a Gateway per bank, Traefik rate limit behind a proxy", overrides: { gatewayListeners: "bank-gateway", gatewayClassName: "traefik", edgeRateLimit: "traefik", trustedProxyCidrs: ["10.20.0.0/16"] } },
    { name: "ingress-nginx", overrides: { routing: "ingress-nginx" } },
];

for (const mode of MODES) {
    describe(`the bank's edge, ${mode.name}`, () => {
        let objects: KubernetesObject[];
        let manifests: string;
        before(async () => {
            const rendered = await render({ stack: "demo", overrides: mode.overrides });
            objects = plainObjects(rendered.resources);
            manifests = manifestsYaml(rendered.resources);
        });

        it("writes manifests.yaml that kubectl (YAML 1.1) reads back as the same strings", () => {
            const read = YAML.parseAllDocuments(manifests, { version: "1.1" }).map((d) => d.toJS());
            const annotations = (os: any[]) => os.flatMap((o) => Object.entries(o.metadata.annotations ?? {}));
            for (const [key, value] of annotations(read)) assert.equal(typeof value, "string", `${key} reads as ${JSON.stringify(value)}`);
            assert.deepEqual(annotations(read).sort(), annotations(objects).sort());
        });

        it("renders only schema-valid objects of its own mode", async () => {
            assert.deepEqual((await Promise.all(objects.map(schemaProblems))).flat(), []);
            const gateway = objects.filter((o) => o.apiVersion.startsWith("gateway.networking.k8s.io/"));
            const ingresses = objects.filter((o) => o.kind === "Ingress");
            if (mode.overrides.routing === "ingress-nginx") {
                assert.deepEqual(gateway, []);
                assert.ok(ingresses.length > 0);
            } else {
                assert.deepEqual(ingresses.map((o) => o.metadata.name), [], "gateway-api mode creates no Ingress");
                assert.ok(!objects.some((o) => o.kind === "Service" && (o.spec as any).type === "ExternalName"), "no ExternalName Service");
                const ownGateway = (mode.overrides as { gatewayListeners?: string }).gatewayListeners === "bank-gateway";
                const middlewares = objects.filter((o) => o.apiVersion.startsWith("traefik.io/"));
                assert.deepEqual(middlewares.map((o) => o.kind), (mode.overrides as { edgeRateLimit?: string }).edgeRateLimit === "traefik" ? ["Middleware"] : []);
                assert.deepEqual([...new Set(gateway.map((o) => o.kind))].sort(), ["BackendTLSPolicy", "HTTPRoute", ownGateway ? "Gateway" : "ListenerSet", "ReferenceGrant"].sort());
                // Every route's parents are the bank's own listeners, in its namespace: nothing shared is written.
                const holder = gateway.find((o) => o.kind === (ownGateway ? "Gateway" : "ListenerSet"))!;
                assert.equal(holder.metadata.namespace, "bank-demo-integrate");
                if (ownGateway) assert.equal((holder.spec as any).gatewayClassName, "traefik");
                for (const r of gateway.filter((o) => o.kind === "HTTPRoute")) {
                    for (const p of (r.spec as any).parentRefs) assert.deepEqual([p.kind, p.name, p.namespace], [holder.kind, holder.metadata.name, undefined], r.metadata.name);
                }
            }
        });

        it("serves every host over TLS: plain HTTP never reaches a backend, and redirects to the same URL over https", () => {
            for (const host of Object.values(HOSTS)) {
                for (const p of PATHS) {
                    const plain = route(objects, "http", host, p);
                    assert.notEqual(plain.kind, "backend", `http://${host}${p} reaches a backend`);
                    if (mode.overrides.routing !== "ingress-nginx") assert.deepEqual(plain.kind === "redirect" && [plain.status, plain.location], [301, `https://${host}${p}`], p);
                }
                assert.equal(route(objects, "https", host, host === HOSTS.api ? "/.well-known/jwks.json" : "/").kind, "backend", host);
            }
        });

        it("sends HSTS on every HTTPS answer the edge routes", () => {
            for (const host of Object.values(HOSTS)) {
                for (const p of PATHS) {
                    const o = route(objects, "https", host, p);
                    if (o.kind === "not-found") continue;
                    assert.match(o.headers["strict-transport-security"] ?? "", /^max-age=31536000; includeSubDomains$/, `https://${host}${p} (${o.via})`);
                }
            }
        });

        it("never routes to Kratos' admin API, nor Kratos' admin-redirecting paths to Kratos", () => {
            for (const host of Object.values(HOSTS)) {
                for (const p of PATHS) {
                    const o = route(objects, "https", host, p);
                    if (o.kind !== "backend") continue;
                    assert.notEqual(o.service, "kratos-admin", p);
                    assert.notEqual(o.port, 4434, p);
                    if (o.service !== "kratos-public") continue;
                    // Kratos' router redirects /admin... and /identities... to the admin address: those exact
                    // (lowercase) paths never reach it. Other cases do (Gateway API matching is case-sensitive):
                    // real Kratos answers them without the admin address (test/real/kratos.test.ts).
                    const first = o.path.split("/")[1] ?? "";
                    assert.ok(!KRATOS_ADMIN_REDIRECT_PREFIXES.includes(first as never), `https://${host}${p} reaches Kratos as ${o.path}`);
                }
                for (const hidden of ["/.ory/admin", "/.ory/admin/identities", "/.ory/identities", "/.ory/identities/7"]) {
                    const o = route(objects, "https", HOSTS.backoffice, hidden);
                    assert.ok(o.kind !== "backend" || o.service !== "kratos-public" || !/^\/(admin|identities)(\/|$)/.test(o.path), hidden);
                }
            }
            const login = route(objects, "https", HOSTS.backoffice, "/.ory/self-service/login/browser");
            assert.deepEqual(login.kind === "backend" && [login.service, login.path], ["kratos-public", "/self-service/login/browser"]);
        });

        it("rate-limits every request that reaches Kratos public per client where the mode has a limit, and nothing else", () => {
            const limit = (mode.overrides as { edgeRateLimit?: string; routing?: string });
            const limited = limit.routing === "ingress-nginx" || (limit.edgeRateLimit ?? "none") !== "none";
            let kratos = 0;
            for (const host of Object.values(HOSTS)) {
                for (const p of PATHS) {
                    const o = route(objects, "https", host, p);
                    if (o.kind !== "backend") continue;
                    const toKratos = o.service === "kratos-public";
                    if (toKratos) kratos++;
                    assert.equal(Boolean(o.rateLimited), limited && toKratos, `https://${host}${p} (${o.via}): ${o.rateLimited ?? "no limit"}`);
                }
            }
            assert.ok(kratos >= 20, `only ${kratos} generated paths reach Kratos`);
            // Traefik's Middleware counts the client as the trusted proxies name it, and only them.
            for (const m of objects.filter((o) => o.kind === "Middleware")) {
                const criterion = (m.spec as any).rateLimit.sourceCriterion;
                assert.deepEqual(criterion?.ipStrategy?.excludedIPs ?? [], (mode.overrides as { trustedProxyCidrs?: string[] }).trustedProxyCidrs ?? []);
                assert.ok((m.spec as any).rateLimit.average > 0 && (m.spec as any).rateLimit.burst >= (m.spec as any).rateLimit.average);
            }
        });

        it("forwards to DCM's API only the allow-list, over TLS verified against DCM's CA, with no catch-all", () => {
            for (const p of PATHS) {
                const o = route(objects, "https", HOSTS.api, p);
                const toDcm = o.kind === "backend" && o.service === DCM.service && o.namespace === DCM.namespace;
                const allowed = DEFAULT_DCM_API_PATHS.some((a) => p === a || p.startsWith(`${a}/`));
                assert.equal(toDcm, allowed, `https://${HOSTS.api}${p}: ${JSON.stringify(o)}`);
                if (toDcm) assert.ok(o.kind === "backend" && o.tls && o.path === p, `${p} is forwarded unverified or rewritten`);
            }
            for (const p of ["/", "/v1", "/v1/accounts", "/v1/transfersx", "/admin", "/V1/transfers"]) {
                assert.equal(route(objects, "https", HOSTS.api, p).kind, "not-found", p);
            }
        });
    });
}

describe("the DCM API allow-list's default", () => {
    it("is exactly the DCM API paths the integration scenario of plan steps 12-16 calls", () => {
        const scenario = YAML.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "scenarios", "integration.yaml"), "utf8"));
        // A scenario path's first two segments are the resource (`/v1/transfers/{{ id }}` -> /v1/transfers).
        const used = [...new Set(scenario.steps.map((s: any) => String(s.request.path).split("/").slice(0, 3).join("/")))].sort();
        assert.deepEqual([...DEFAULT_DCM_API_PATHS].sort(), used);
        const project = YAML.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "Pulumi.yaml"), "utf8"));
        assert.ok(DEFAULT_DCM_API_PATHS.every((p) => project.config.dcmApiPaths.description.includes(p)), "Pulumi.yaml's description names the default");
    });
});
