/**
 * The Gateway API edge served by a real data plane (issue 26): the demo stack rendered in gateway-api mode with
 * a Gateway of the bank's own (gatewayListeners bank-gateway: Traefik v3.7 has no ListenerSet) and self-signed
 * TLS, applied server-side to a real kube-apiserver; real Traefik watches it and serves real HTTPS to the stack's
 * backends: real Kratos (the stack's own config), real nginx with the rendered JWKS server config, a small Node
 * server for the frontend and the checks' fake of DCM's API (HTTPS, its CA in the ConfigMap the BackendTLSPolicy
 * names). The bank's key keeper is the reference one, on loopback, fetching the JWKS through Traefik.
 *
 * The backends live in a network namespace the test creates (the API server refuses loopback endpoint
 * addresses), with EndpointSlices written by hand (no controller manager runs); Traefik runs on the host,
 * listening on 127.0.0.1:443 and :80 (the listeners' ports). Every request stays on this machine.
 *
 * Last, the rate limit on /.ory as edgeRateLimit traefik renders it (a Middleware the route names): applied as a
 * `pulumi up` of that change would, with Traefik restarted as the platform configures it for each proxy setting.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import { HSTS_VALUE, KRATOS_RATE_LIMIT_NAME } from "../../components/gateway-routes";
import { KRATOS_RATE_LIMITS } from "../../components/integration-hosts";
import { PROJECT_ROOT } from "../../domain/project";
import { createKeyKeeperServer } from "../../reference/key-keeper/server";
import { createTokenVerifier } from "../../reference/key-keeper/verifier";
import { missingComponents, realBinary } from "../../real/components";
import { runChecks } from "../../scripts/lib/checks";
import { KubernetesObject, plainObjects } from "../../scripts/lib/engine/manifests";
import { CONTROL_PLANE_COMPONENTS, ControlPlane, kubectl, startControlPlane } from "../../support/real/apiserver";
import { Answer, Browser } from "../../support/real/browser";
import { KRATOS_COMPONENTS, renderStack, RenderedStack, RunningKratos, startKratos } from "../../support/real/kratos";
import { createNetns, Netns } from "../../support/real/netns";
import { Running, start, waitUntil } from "../../support/real/process";
import { LISTENER_PORTS, RunningTraefik, startTraefik, takenListenerPorts, TRAEFIK_CONTROLLER } from "../../support/real/traefik";
import { testPki } from "../../support/tls-certs";

const missing = missingComponents([...CONTROL_PLANE_COMPONENTS, ...KRATOS_COMPONENTS, "nginx", "traefik"]);
const skip = missing.length > 0 ? `${missing.join(", ")} not built: run \`npm run real:setup\``
    : process.getuid?.() !== 0 ? "needs root: the backends run in a network namespace the test creates (ip netns)" : false;

/** The checks of the edge and the pods behind it (plan step 5 and the backoffice's); the run also has the key keeper's and the scenario's. */
const EDGE_CHECKS = ["https-backoffice", "https-api", "http-redirect-backoffice", "http-redirect-api", "hsts-backoffice", "hsts-api",
    "frontend-html", "kratos-health", "kratos-login-flow", "kratos-admin-hidden", "jwks"];
/** The bank's key keeper, as the demo stack's keyKeeperUrl names it. */
const KEY_KEEPER_HOST = "keykeeper.demo-bank.example";
/** The backends' ports in the namespace (one address for all, as if one pod each on a shared IP). */
const PORTS = { frontend: 3000, jwks: 8080, dcmApi: 8443 };
const GATEWAY_CLASS = "traefik";

/** The frontend in the namespace: the single-page app's HTML for every path. Logs each request it receives. */
const FRONTEND = `
require("node:http").createServer((req, res) => {
    console.log("REQUEST " + req.method + " " + req.url);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><html><head><title>Backoffice</title></head><body><div id=app></div></body></html>");
}).listen(Number(process.env.PORT), process.env.HOST, () => console.log("LISTENING"));
`;
/** The paths (and Host) a backend's log says it received. */
const received = (p: Running) => p.output().split("\n").filter((l) => l.startsWith("REQUEST ")).map((l) => l.split(" ").slice(2).join(" "));

/** Plain HTTP to Traefik's port 80 with the host's name. */
function plainGet(host: string, pathname: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: LISTENER_PORTS.http, path: pathname, headers: { host }, timeout: 10_000 }, (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, headers: res.headers });
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end();
    });
}

const hsts = (a: Answer) => a.headers["strict-transport-security"];

describe("the bank's Gateway API edge through real Traefik", { skip }, () => {
    let work: string;
    let netns: Netns;
    let cp: ControlPlane;
    let stack: RenderedStack;
    let objects: KubernetesObject[];
    let kratos: RunningKratos;
    let traefik: RunningTraefik;
    let ca: string;
    let hosts: { backoffice: string; api: string };
    const procs: Running[] = [];
    let dcmApi: Running;
    let frontend: Running;
    let users: { username: string; secret: string }[];
    let keyKeeper: http.Server;
    let keyKeeperCa: string;
    /** DCM's namespace, the CA ConfigMap's name and the CA that signed DCM's API certificate. */
    let dcm: { dcmNamespace: string; caConfigMap: string; ca: string };

    const apply = async (name: string, docs: readonly unknown[]) => {
        const file = path.join(work, `${name}.yaml`);
        fs.writeFileSync(file, docs.map((o) => `---\n${YAML.stringify(o, { lineWidth: 0, version: "1.1" })}`).join(""), { mode: 0o600 });
        const r = await kubectl(cp, ["apply", "--server-side", "--field-manager=dcm-real-test", "-f", file]);
        assert.equal(r.code, 0, `kubectl apply ${name}:\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /Warning:/, r.stderr);
    };
    /** An EndpointSlice for a Service: its one endpoint the namespace's address, on `port` under the Service port's name. */
    const endpoints = (namespace: string, service: string, portName: string, port: number) => ({
        apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
        metadata: { name: `${service}-test`, namespace, labels: { "kubernetes.io/service-name": service, "endpointslice.kubernetes.io/managed-by": "dcm-real-test" } },
        addressType: "IPv4",
        endpoints: [{ addresses: [netns.address], conditions: { ready: true, serving: true, terminating: false } }],
        ports: [{ name: portName, port, protocol: "TCP" }],
    });
    /** A Node server in the namespace: the frontend, or DCM's API (support/real/dcm-api-server.ts). */
    const stub = async (kind: "frontend" | "dcm-api", port: number, extra: Record<string, string> = {}) => {
        const env: Record<string, string> = { PATH: process.env.PATH ?? "", PORT: String(port), HOST: netns.address, ...extra };
        const script = kind === "frontend" ? ["-e", FRONTEND] : ["--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "support", "real", "dcm-api-server.ts")];
        const [command, args] = netns.wrap(process.execPath, script);
        const p = start(command, args, { env, cwd: PROJECT_ROOT });
        procs.push(p);
        await waitUntil(kind, async () => p.output().includes("LISTENING"), p, 20_000);
        return p;
    };
    /** Real nginx with the rendered JWKS server's config and document, listening on the namespace's address. */
    const jwksServer = async () => {
        const byName = (n: string) => objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === n) as unknown as { data: Record<string, string> };
        const dir = path.join(work, "jwks");
        fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
        fs.chmodSync(work, 0o755);
        fs.writeFileSync(path.join(dir, "jwks.json"), byName("jwks").data["jwks.json"], { mode: 0o644 });
        const server = byName("jwks-server-nginx").data["default.conf"]
            .replace(/listen (\d+);/, `listen ${netns.address}:$1;`)
            .replace("/usr/share/jwks/jwks.json", path.join(dir, "jwks.json"));
        assert.match(server, new RegExp(`listen ${netns.address.replaceAll(".", "\\.")}:${PORTS.jwks};`), "the rendered JWKS server listens on its Service's target port");
        const temp = (n: string) => `${n}_temp_path ${path.join(dir, n)};`;
        const conf = `daemon off;\nworker_processes 1;\npid ${path.join(dir, "nginx.pid")};\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp).join("\n  ")}\n${server}\n}\n`;
        fs.writeFileSync(path.join(dir, "nginx.conf"), conf);
        const [command, args] = netns.wrap(realBinary("nginx"), ["-c", path.join(dir, "nginx.conf"), "-p", dir, "-e", "stderr"]);
        const p = start(command, args);
        procs.push(p);
        await waitUntil("jwks nginx", () => fetch(`http://${netns.address}:${PORTS.jwks}/healthz`).then((r) => r.ok), p, 20_000);
    };

    before(async () => {
        const taken = await takenListenerPorts();
        assert.deepEqual(taken, [], `127.0.0.1:${taken.join(", :")} is taken: Traefik needs the listeners' ports`);
        work = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-data-plane-"));
        netns = await createNetns();
        cp = await startControlPlane();
        stack = await renderStack("demo", { tlsMode: "self-signed", gatewayListeners: "bank-gateway", gatewayClassName: GATEWAY_CLASS });
        objects = plainObjects(stack.resources);
        ca = String(stack.outputs.tlsCaCertificatePem);
        hosts = { backoffice: stack.backofficeHost, api: String(stack.outputs.apiHost) };
        assert.equal(objects.filter((o) => o.kind === "Gateway").length, 1, "the bank's own Gateway");
        assert.deepEqual(objects.filter((o) => o.kind === "ListenerSet" || o.kind === "Ingress"), []);

        // DCM's side: its namespace, its API's Service (the upstream's port), and the CA that verifies it.
        const upstream = new URL("https://dcm-api.dcm-platform.svc.cluster.local:8443");
        const dcmPki = await testPki([upstream.hostname]);
        const platform = [...new Set(objects.map((o) => o.metadata.namespace).filter((n): n is string => Boolean(n) && !objects.some((o) => o.kind === "Namespace" && o.metadata.name === n)))];
        for (const ns of platform) assert.equal((await kubectl(cp, ["create", "namespace", ns])).code, 0, ns);
        const grant = objects.find((o) => o.kind === "ReferenceGrant")!;
        const dcmNamespace = grant.metadata.namespace as string;
        const dcmService = ((grant.spec as any).to[0].name) as string;
        const caConfigMap = ((objects.find((o) => o.kind === "BackendTLSPolicy")!.spec as any).validation.caCertificateRefs[0].name) as string;
        dcm = { dcmNamespace, caConfigMap, ca: dcmPki.ca };
        await apply("platform", [
            { apiVersion: "gateway.networking.k8s.io/v1", kind: "GatewayClass", metadata: { name: GATEWAY_CLASS }, spec: { controllerName: TRAEFIK_CONTROLLER } },
            { apiVersion: "v1", kind: "Service", metadata: { name: dcmService, namespace: dcmNamespace }, spec: { ports: [{ name: "https", port: PORTS.dcmApi, targetPort: PORTS.dcmApi }] } },
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: caConfigMap, namespace: dcmNamespace }, data: { "ca.crt": dcmPki.ca } },
        ]);
        await apply("stack", objects);

        // The pods' addresses, as the EndpointSlice controller would write them for the Services' ports.
        const bankNs = stack.outputs.namespaceName as string;
        kratos = await startKratos(stack, { netns });
        const servicePort = (name: string) => ((objects.find((o) => o.kind === "Service" && o.metadata.name === name)!.spec as any).ports[0].name) as string;
        await apply("endpoints", [
            endpoints(bankNs, "frontend", servicePort("frontend"), PORTS.frontend),
            endpoints(bankNs, "jwks-server", servicePort("jwks-server"), PORTS.jwks),
            endpoints(bankNs, "kratos-public", servicePort("kratos-public"), kratos.publicPort),
            endpoints(bankNs, "kratos-admin", servicePort("kratos-admin"), kratos.adminPort),
            endpoints(dcmNamespace, dcmService, "https", PORTS.dcmApi),
        ]);
        frontend = await stub("frontend", PORTS.frontend);
        // DCM's API knows the bank's two users (the stack's key keeper outputs).
        const usernames = stack.outputs.keyKeeperUsernames as { identification: string; processing: string };
        const passwords = stack.outputs.keyKeeperPasswords as { identification: string; processing: string };
        users = (["identification", "processing"] as const).map((r) => ({ username: usernames[r], secret: passwords[r] }));
        const file = (name: string, text: string) => {
            fs.writeFileSync(path.join(work, name), text, { mode: 0o600 });
            return path.join(work, name);
        };
        dcmApi = await stub("dcm-api", PORTS.dcmApi, {
            CERT: file("dcm-api.crt", dcmPki.cert), KEY: file("dcm-api.key", dcmPki.key), USERS: file("users.json", JSON.stringify(users)), ALIAS: String(stack.outputs.alias),
        });
        await jwksServer();

        traefik = await startTraefik(cp.kubeconfig);

        // The bank's key keeper (the reference one) on loopback: it verifies DCM's tokens against the JWKS it
        // fetches from the api host, through Traefik.
        const keyKeeperPki = await testPki([KEY_KEEPER_HOST]);
        keyKeeperCa = keyKeeperPki.ca;
        const keyKeeperUrl = new URL(String(stack.outputs.keyKeeperUrl));
        assert.equal(keyKeeperUrl.host, KEY_KEEPER_HOST);
        const verify = await createTokenVerifier({
            url: `${keyKeeperUrl.href.replace(/\/+$/, "")}/key`, audience: String(stack.outputs.alias), algorithms: [String(stack.outputs.signingAlgorithm)],
            jwksUrl: String(stack.outputs.jwksUrl), jwksCa: [ca], jwksConnectTo: { host: "127.0.0.1", port: LISTENER_PORTS.https },
        });
        keyKeeper = createKeyKeeperServer({ verify, users, basePath: keyKeeperUrl.pathname, tls: { cert: keyKeeperPki.cert, key: keyKeeperPki.key } });
        await new Promise<void>((r) => keyKeeper.listen(0, "127.0.0.1", r));
        // Traefik has the routes once the frontend answers through it.
        await waitUntil("Traefik serving the bank's routes", async () => (await new Browser(hosts.backoffice, LISTENER_PORTS.https, ca).request("/")).status === 200, undefined, 60_000)
            .catch((e: Error) => { throw new Error(`${e.message}\n${traefik.output().slice(-6000)}`); });
    });

    after(async () => {
        if (keyKeeper?.listening) await new Promise<void>((r) => { keyKeeper.close(() => r()); keyKeeper.closeAllConnections(); });
        await traefik?.stop();
        await kratos?.stop();
        for (const p of procs) await p.stop();
        await cp?.stop();
        await netns?.remove();
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    const backoffice = () => new Browser(hosts.backoffice, LISTENER_PORTS.https, ca);
    const api = () => new Browser(hosts.api, LISTENER_PORTS.https, ca);

    /**
     * The stack re-rendered with edgeRateLimit traefik and these trusted proxy ranges, its Middleware and Kratos
     * route applied (what `pulumi up` of that change does), and Traefik restarted with the same ranges as its
     * entryPoints' trustedIPs, as docs/devops.md tells the platform: a fresh process, so every bucket is empty.
     */
    const rateLimited = async (trustedProxyCidrs: string[]) => {
        const limited = plainObjects((await renderStack("demo", {
            tlsMode: "self-signed", gatewayListeners: "bank-gateway", gatewayClassName: GATEWAY_CLASS, edgeRateLimit: "traefik", trustedProxyCidrs,
        })).resources);
        const changed = limited.filter((o) => (o.kind === "Middleware" && o.metadata.name === KRATOS_RATE_LIMIT_NAME) || (o.kind === "HTTPRoute" && o.metadata.name === "backoffice-kratos"));
        assert.equal(changed.length, 2, "the Middleware and the route naming it");
        await apply(`rate-limit-${trustedProxyCidrs.length}`, changed);
        await traefik.stop();
        traefik = await startTraefik(cp.kubeconfig, { trustedIPs: trustedProxyCidrs });
        // Served once Kratos answers through the route (the Middleware resolved: an unknown one fails the router).
        await waitUntil("Traefik serving /.ory through the Middleware", async () => (await backoffice().request("/.ory/health/alive")).status === 200, undefined, 60_000)
            .catch((e: Error) => { throw new Error(`${e.message}\n${traefik.output().slice(-4000)}`); });
        const spec = (changed.find((o) => o.kind === "Middleware")!.spec as { rateLimit: { average: number; burst: number } }).rateLimit;
        assert.deepEqual([spec.average, spec.burst], [KRATOS_RATE_LIMITS.rps, KRATOS_RATE_LIMITS.rps * KRATOS_RATE_LIMITS.burstMultiplier]);
        // The probe above spent a token of the peer's bucket: wait until the bucket is full again.
        await new Promise((r) => setTimeout(r, (1000 * spec.burst) / spec.average + 500));
        return spec;
    };
    /**
     * Three times the burst at once, each with the headers `headers(i)` gives: together they take far less than the
     * (3 - 1) x burst / rps seconds the bucket needs to refill that many, even on a loaded machine (sequential
     * requests, each a new TLS connection, were slow enough to be refilled).
     */
    const answersOf = (pathname: string, headers: (i: number) => Record<string, string>) =>
        Promise.all(Array.from({ length: KRATOS_RATE_LIMITS.rps * KRATOS_RATE_LIMITS.burstMultiplier * 3 }, (_, i) => backoffice().request(pathname, { headers: headers(i) })));
    const burstOf = async (pathname: string, headers: (i: number) => Record<string, string>) => (await answersOf(pathname, headers)).map((a) => a.status);

    it("the API server accepted every route: Traefik reports the Gateway programmed and each HTTPRoute accepted with resolved refs", async () => {
        const got = await kubectl(cp, ["get", "gateway,httproute", "-n", String(stack.outputs.namespaceName), "-o", "json"]);
        const items = JSON.parse(got.stdout).items as any[];
        const gateway = items.find((i) => i.kind === "Gateway");
        assert.equal(gateway.status.conditions.find((c: any) => c.type === "Programmed")?.status, "True", JSON.stringify(gateway.status));
        for (const route of items.filter((i) => i.kind === "HTTPRoute")) {
            const conditions = route.status.parents.flatMap((p: any) => p.conditions);
            for (const type of ["Accepted", "ResolvedRefs"]) {
                assert.ok(conditions.filter((c: any) => c.type === type).every((c: any) => c.status === "True") && conditions.some((c: any) => c.type === type), `${route.metadata.name}: ${JSON.stringify(conditions)}`);
            }
        }
    });

    it("strips /.ory before Kratos: Kratos' own health and login flow answer through the backoffice host", async () => {
        const health = await backoffice().request("/.ory/health/alive");
        assert.equal(health.status, 200, health.text);
        assert.equal(health.json.status, "ok");
        const flow = await backoffice().request("/.ory/self-service/login/api");
        assert.equal(flow.status, 200, flow.text);
        assert.ok(String(flow.json.ui.action).startsWith(`https://${hosts.backoffice}/.ory/self-service/login?flow=`), flow.json.ui.action);
    });

    it("answers Kratos' admin-redirecting paths at the edge: never Kratos, never the admin address", async () => {
        const adminHost = new URL(stack.adminBaseUrl).host;
        const before = kratos.output().length;
        for (const p of ["/.ory/admin/identities", "/.ory/admin", "/.ory/admin/health/ready", "/.ory/identities", "/.ory/identities/7/credentials"]) {
            const res = await backoffice().request(p);
            // The edge's RequestRedirect to the home page (Traefik writes the absolute URL).
            const home = new URL(String(res.headers.location ?? ""), `https://${hosts.backoffice}${p}`).href;
            assert.deepEqual([res.status, home], [302, `https://${hosts.backoffice}/`], `${p}: ${res.status} ${String(res.headers.location)}`);
            assert.equal(hsts(res), HSTS_VALUE, p);
            assert.ok(!JSON.stringify(res.headers).includes(adminHost) && !res.text.includes(adminHost), `${p} revealed ${adminHost}`);
        }
        // Kratos logs every request it handles, naming the path (shown by the one that does reach it): none of the hidden ones did.
        assert.equal((await backoffice().request("/.ory/sessions/whoami")).status, 401);
        await waitUntil("Kratos' request log", async () => kratos.output().slice(before).includes("/sessions/whoami"), undefined, 5000)
            .catch((e: Error) => { throw new Error(`${e.message}: ${kratos.output().slice(-1500)}`); });
        assert.doesNotMatch(kratos.output().slice(before), /\/(admin|identities)/, "a hidden path reached Kratos");
    });

    it("sets HSTS on every HTTPS answer of the routes: frontend, Kratos, JWKS, DCM's API", async () => {
        const answers = [
            await backoffice().request("/", { headers: { accept: "text/html" } }),
            await backoffice().request("/some/spa/route", { headers: { accept: "text/html" } }),
            await backoffice().request("/.ory/health/ready"),
            await backoffice().request("/.ory/no-such-kratos-path"),
            await api().request("/.well-known/jwks.json"),
            await api().request("/v1/transfers/42"),
        ];
        for (const a of answers) assert.equal(hsts(a), HSTS_VALUE, `${a.status} ${a.text.slice(0, 100)}`);
        // The last: DCM's API itself refusing a request without the bank's credentials.
        assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 404, 200, 401]);
    });

    it("redirects plain HTTP to HTTPS on both hosts, same host and path, 301", async () => {
        for (const host of Object.values(hosts)) {
            for (const p of ["/", "/.ory/self-service/login/browser", "/.well-known/jwks.json?x=1"]) {
                const res = await plainGet(host, p);
                assert.deepEqual([res.status, res.headers.location], [301, `https://${host}${p}`], `http://${host}${p}`);
            }
        }
    });

    it("serves the rendered JWKS on the api host", async () => {
        const res = await api().request("/.well-known/jwks.json");
        assert.equal(res.status, 200);
        const rendered = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "jwks") as unknown as { data: Record<string, string> };
        assert.deepEqual(res.json, JSON.parse(rendered.data["jwks.json"]));
        assert.ok(Array.isArray(res.json.keys) && res.json.keys.length > 0);
    });

    it("forwards only the allow-list to DCM's API, over TLS verified against the CA the BackendTLSPolicy names", async () => {
        const allowed = await api().request("/v1/customers/7?q=1");
        assert.equal(allowed.status, 401, `DCM's API answers (no credentials given): ${allowed.text}`);
        // The path unchanged, and the Host DCM's API sees its own name (the URLRewrite hostname filter).
        assert.equal(received(dcmApi).at(-1), "/v1/customers/7?q=1 host=dcm-api.dcm-platform.svc.cluster.local");
        const count = received(dcmApi).length;
        for (const p of ["/", "/v1", "/v1/accounts", "/v1/transfersx", "/V1/transfers", "/admin", "/.well-known/other"]) {
            const res = await api().request(p);
            assert.equal(res.status, 404, `${p} answered ${res.status}: ${res.text.slice(0, 200)}`);
            assert.ok(!res.text.includes("dcmApi"), `${p} reached DCM's API`);
        }
        assert.deepEqual(received(dcmApi).slice(count), [], "DCM's API saw paths outside the allow-list");
    });

    it("every post-deploy check passes against it: the edge's, the key keeper's (JWKS through Traefik) and the scenario's (DCM's API through the allow-list)", async (t) => {
        const resolve = [
            ...Object.values(hosts).flatMap((h) => [`${h}:443:127.0.0.1`, `${h}:80:127.0.0.1`]),
            `${KEY_KEEPER_HOST}:443:127.0.0.1:${(keyKeeper.address() as AddressInfo).port}`,
        ];
        const report = await runChecks({ stack: stack.stack, outputs: stack.outputs, resolve, caPem: [ca, keyKeeperCa], deadlineMs: 60_000, timeoutMs: 8000 });
        const failed = report.results.filter((r) => r.status !== "pass").map((r) => `${r.id}: ${r.status} ${r.reason ?? ""}`);
        assert.deepEqual(failed, []);
        const ran = report.results.map((r) => r.id);
        for (const id of EDGE_CHECKS) assert.ok(ran.includes(id), `${id} did not run`);
        assert.ok(ran.some((id) => id.startsWith("key-keeper-")) && ran.some((id) => id.startsWith("scenario-")), ran.join(", "));
        t.diagnostic(`${ran.length} checks passed: ${ran.join(", ")}`);
        // The scenario reached DCM's API through the edge.
        assert.ok(received(dcmApi).some((p) => p.startsWith("/v1/transfers")), received(dcmApi).join(", "));
    });

    it("the frontend stub saw only the frontend's requests (no /.ory path leaked past the Kratos route)", () => {
        const paths = received(frontend);
        assert.ok(paths.length > 0);
        assert.deepEqual(paths.filter((p) => p.startsWith("/.ory")), []);
    });

    // The last two change DCM's side, so they run after everything above.
    it("verifies DCM's API: with another CA in the BackendTLSPolicy's ConfigMap, Traefik refuses the upstream and DCM's API gets nothing", async () => {
        const { dcmNamespace, caConfigMap } = dcm;
        const other = await testPki(["dcm-api.dcm-platform.svc.cluster.local"]);
        await apply("other-ca", [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: caConfigMap, namespace: dcmNamespace }, data: { "ca.crt": other.ca } }]);
        let last: Answer | undefined;
        // Until Traefik reloads, requests still go out verified against the old CA.
        await waitUntil("Traefik refusing DCM's certificate", async () => (last = await api().request("/v1/transfers")).status >= 500, undefined, 30_000)
            .catch((e: Error) => { throw new Error(`${e.message}: last ${last?.status} ${last?.text.slice(0, 200)}`); });
        const count = received(dcmApi).length;
        for (let i = 0; i < 5; i++) assert.ok((await api().request("/v1/transfers")).status >= 500);
        assert.deepEqual(received(dcmApi).slice(count), [], "a request reached DCM's API over an unverified connection");
        await apply("dcm-ca", [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: caConfigMap, namespace: dcmNamespace }, data: { "ca.crt": dcm.ca } }]);
        await waitUntil("Traefik trusting DCM's CA again", async () => (await api().request("/v1/transfers")).status === 401, undefined, 30_000);
    });

    it("honours the ReferenceGrant: without it the api route's DCM rule is refused (RefNotPermitted) and DCM's API gets nothing", async (t) => {
        const grant = objects.find((o) => o.kind === "ReferenceGrant")!;
        const deleted = await kubectl(cp, ["delete", "referencegrant", grant.metadata.name, "-n", dcm.dcmNamespace]);
        assert.equal(deleted.code, 0, deleted.stderr);
        const reason = async () => {
            const got = JSON.parse((await kubectl(cp, ["get", "httproute", "api", "-n", String(stack.outputs.namespaceName), "-o", "json"])).stdout);
            return (got.status?.parents ?? []).flatMap((p: any) => p.conditions).find((c: any) => c.type === "ResolvedRefs")?.reason as string | undefined;
        };
        await waitUntil("Traefik reporting RefNotPermitted", async () => (await reason()) === "RefNotPermitted", undefined, 30_000);
        // The status comes first; the routing follows on Traefik's next reload (until then DCM's API answers 401).
        let last: Answer | undefined;
        await waitUntil("Traefik no longer forwarding to DCM's API", async () => (last = await api().request("/v1/transfers")).status !== 401, undefined, 30_000);
        assert.ok(last!.status >= 400, `${last!.status}: ${last!.text.slice(0, 200)}`);
        const count = received(dcmApi).length;
        for (let i = 0; i < 5; i++) assert.ok((await api().request("/v1/transfers")).status >= 400);
        assert.deepEqual(received(dcmApi).slice(count), [], "DCM's API was reached without the grant");
        t.diagnostic(`without the grant: ${last!.status} ${last!.text.trim().slice(0, 60)}`);
        // The JWKS rule of the same route still serves.
        assert.equal((await api().request("/.well-known/jwks.json")).status, 200);
    });

    it("limits /.ory per client with Traefik's Middleware (edgeRateLimit traefik): 429 with HSTS over the burst, the frontend never", async (t) => {
        const limit = await rateLimited([]);
        const answers = await answersOf("/.ory/health/alive", () => ({}));
        const statuses = answers.map((a) => a.status);
        assert.ok(statuses.filter((s) => s === 200).length >= limit.burst, `fewer than the burst passed: ${statuses.join(",")}`);
        assert.ok(statuses.includes(429), `no request was limited: ${statuses.join(",")}`);
        // Read from the burst itself: a request sent after it may find a token refilled (one every 1/rps s).
        for (const refused of answers.filter((a) => a.status === 429)) assert.equal(hsts(refused), HSTS_VALUE, "the limit's answer carries HSTS (the header filter comes first)");
        const frontendStatuses = await burstOf("/", () => ({ accept: "text/html" }));
        assert.deepEqual([...new Set(frontendStatuses)], [200], "the frontend is not limited");
        t.diagnostic(`429s: ${statuses.filter((s) => s === 429).length} of ${statuses.length}`);
    });

    it("keeps that limit per real client: a rotated X-Forwarded-For does not reset it; only the trusted proxies' is believed", async (t) => {
        // Every request claims another client in X-Forwarded-For; the connection's peer is always 127.0.0.1.
        const rotating = (i: number) => ({ "x-forwarded-for": `198.51.100.${i + 1}` });
        // The default (no trusted ranges): Traefik counts the peer and reads no header.
        await rateLimited([]);
        const none = await burstOf("/.ory/health/alive", rotating);
        assert.ok(none.includes(429), `rotating X-Forwarded-For escaped the limit: ${none.join(",")}`);
        // A proxy range that is not this client's address: Traefik drops its header, so it is still one client.
        await rateLimited(["10.99.0.0/16"]);
        const elsewhere = await burstOf("/.ory/health/alive", rotating);
        assert.ok(elsewhere.includes(429), `a header from outside the trusted range was believed: ${elsewhere.join(",")}`);
        // From a trusted range, the address the proxy appended (the rightmost outside the ranges) is the client:
        // spoofed addresses to its left change nothing...
        await rateLimited(["127.0.0.0/8"]);
        const spoofedLeft = await burstOf("/.ory/health/alive", (i) => ({ "x-forwarded-for": `203.0.113.${i + 1}, 198.51.100.77` }));
        assert.ok(spoofedLeft.includes(429), `addresses left of the proxy's escaped the limit: ${spoofedLeft.join(",")}`);
        // ...and each client the proxy names is its own bucket (the contrast that shows the test can fail).
        const trusted = await burstOf("/.ory/health/alive", rotating);
        assert.ok(!trusted.includes(429), `a trusted proxy's clients share one bucket: ${trusted.join(",")}`);
        t.diagnostic(`429s of ${none.length}: untrusted ${none.filter((s) => s === 429).length}, other range ${elsewhere.filter((s) => s === 429).length}, spoofed left of the proxy ${spoofedLeft.filter((s) => s === 429).length}, trusted ${trusted.filter((s) => s === 429).length}`);
    });
});
