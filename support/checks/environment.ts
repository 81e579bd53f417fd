/**
 * A bank's whole environment on 127.0.0.1 with real TLS: the backoffice host (frontend, Kratos public under
 * /.ory), the api host (JWKS, the fake DCM API), plain HTTP for both, and the bank's key keeper (the
 * reference one unless a verifier is given). Faults are injected through `faults` and the options.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { createKeyKeeperServer } from "../../reference/key-keeper/server";
import { createTokenVerifier, Verify } from "../../reference/key-keeper/verifier";
import { createDcmApi, DcmApi, DcmFaults } from "./dcm-api";
import { createPki, KeyAndCert, Pki } from "./pki";
import { API, BACKOFFICE, KEY_KEEPER, KEY_KEEPER_KEY_URL, StackMaterial, stackMaterial } from "./stack";

export type CertKind = "valid" | "expired" | "soon" | "wrong-host" | "untrusted" | "not-yet-valid";
export type Role = "backoffice" | "api" | "keyKeeper" | "plain";

export interface HostFaults {
    /** Every answer waits this long. */
    latencyMs?: number;
    /** The next N requests answer 503. */
    fail5xx?: number;
    /** No Strict-Transport-Security header. */
    noHsts?: boolean;
    /** HSTS with this max-age instead. */
    hstsMaxAge?: number;
    /** backoffice: Kratos admin answers under /.ory/admin. */
    adminExposed?: boolean;
    /** backoffice: every path under /admin/ or /.ory/admin/ gets this answer. */
    adminAnswer?: { status: number; body: string; contentType?: string; location?: string };
    /** backoffice: a single-page frontend: every unknown path answers 200 with index.html. */
    spaFallback?: boolean;
    /** api: DCM's API upstream is down: everything but the JWKS answers 502. */
    upstreamDown?: boolean;
    /** keyKeeper: answers every request itself (a bank's own key keeper), instead of the reference one. */
    answer?: (req: http.IncomingMessage) => { status: number; body: string; contentType?: string };
    /** backoffice: / answers JSON instead of HTML. */
    noHtml?: boolean;
    /** backoffice: Kratos' ui.action built from this base URL. */
    kratosBaseUrl?: string;
    /** backoffice: Kratos not ready. */
    kratosDown?: boolean;
    /** api: the JWKS document served instead of the stack's. */
    jwks?: unknown;
    /**
     * api: the JWKS pod is down: its path answers 503 from the edge, as ingress-nginx does for a Service
     * without ready endpoints (its certificate and HSTS header, the controller's error page).
     */
    jwksDown?: boolean;
    /** plain: answer 200 instead of redirecting. */
    noRedirect?: boolean;
    /** plain: redirect to this location instead. */
    redirectTo?: string;
}

export interface EnvOptions {
    material?: StackMaterial;
    certs?: Partial<Record<"backoffice" | "api" | "keyKeeper", CertKind>>;
    /** The key keeper's verifier; default the reference one against the JWKS URL. */
    verify?: Verify;
    /** What GET /key returns; default the stack's two users. */
    keyKeeperUsers?: { username: string; secret: string }[];
    /** A role's server starts listening only after this long (connection refused until then). */
    startLate?: { role: Role; ms: number };
    dcm?: DcmFaults;
    faults?: Partial<Record<Role, HostFaults>>;
}

export interface LoopbackEnv {
    material: StackMaterial;
    outputs: Record<string, unknown>;
    resolve: string[];
    caPem: string;
    faults: Record<Role, HostFaults>;
    requests: Record<Role, number>;
    /** Most requests a role's server had in progress at once. */
    maxInFlight: Record<Role, number>;
    dcm: DcmApi;
    close(): Promise<void>;
}

const HSTS = 15_724_800;
let sharedPki: Promise<Pki> | undefined;

async function certFor(kind: CertKind, host: string, pki: Pki): Promise<KeyAndCert> {
    switch (kind) {
        case "valid": return pki.issue([host]);
        case "expired": return pki.issue([host], { fromDays: -100, toDays: -10 });
        case "soon": return pki.issue([host], { toDays: 3 });
        case "not-yet-valid": return pki.issue([host], { fromDays: 5, toDays: 90 });
        case "wrong-host": return pki.issue(["wrong-host.example.com"]);
        case "untrusted": return (await createPki("Unknown CA")).issue([host]);
    }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export async function startEnvironment(options: EnvOptions = {}): Promise<LoopbackEnv> {
    sharedPki ??= createPki();
    const pki = await sharedPki;
    const material = options.material ?? await stackMaterial();
    const outputs = material.outputs;
    const faults: Record<Role, HostFaults> = { backoffice: {}, api: {}, keyKeeper: {}, plain: {}, ...options.faults } as Record<Role, HostFaults>;
    const requests: Record<Role, number> = { backoffice: 0, api: 0, keyKeeper: 0, plain: 0 };
    const inFlight: Record<Role, number> = { backoffice: 0, api: 0, keyKeeper: 0, plain: 0 };
    const maxInFlight: Record<Role, number> = { backoffice: 0, api: 0, keyKeeper: 0, plain: 0 };
    const dcm = createDcmApi(String(outputs.alias), material.users, options.dcm ?? {});
    const ports: Partial<Record<Role, number>> = {};

    /** Latency and 5xx faults, then the role's handler. */
    const wrap = (role: Role, handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void) =>
        (req: http.IncomingMessage, res: http.ServerResponse) => {
            requests[role]++;
            maxInFlight[role] = Math.max(maxInFlight[role], ++inFlight[role]);
            res.once("close", () => inFlight[role]--);
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                void (async () => {
                    const f = faults[role];
                    if (f.latencyMs) await sleep(f.latencyMs);
                    if (f.fail5xx && f.fail5xx > 0) {
                        f.fail5xx--;
                        res.writeHead(503, { "content-type": "text/plain" });
                        res.end("unavailable");
                        return;
                    }
                    if (role !== "plain" && role !== "keyKeeper" && !f.noHsts) res.setHeader("strict-transport-security", `max-age=${f.hstsMaxAge ?? HSTS}; includeSubDomains`);
                    if (f.answer) {
                        const a = f.answer(req);
                        res.writeHead(a.status, { "content-type": a.contentType ?? "application/json" });
                        res.end(a.body);
                        return;
                    }
                    handler(req, Buffer.concat(chunks).toString("utf8"), res);
                })();
            });
        };
    const json = (res: http.ServerResponse, status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
    };

    const backoffice = wrap("backoffice", (req, _body, res) => {
        const f = faults.backoffice;
        const path = (req.url ?? "/").split("?")[0];
        if (path === "/") {
            if (f.noHtml) return json(res, 200, { hello: "json" });
            res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
            res.end("<!doctype html><html><head><title>DCM backoffice</title></head><body><div id=app></div></body></html>");
            return;
        }
        if (path === "/.ory/health/ready") return f.kratosDown ? json(res, 503, { errors: ["db"] }) : json(res, 200, { status: "ok" });
        if (path === "/.ory/self-service/login/api") {
            const flow = "0b6d2f53-8f4c-4f55-9d84-4f1f0c0d1a11";
            return json(res, 200, { id: flow, type: "api", ui: { action: `${f.kratosBaseUrl ?? `https://${BACKOFFICE}/.ory`}/self-service/login?flow=${flow}`, method: "POST", nodes: [] } });
        }
        if (path.startsWith("/.ory/admin/") && f.adminExposed) return json(res, 200, []);
        if (/^(\/\.ory)?\/admin\//.test(path) && f.adminAnswer) {
            const a = f.adminAnswer;
            res.writeHead(a.status, { "content-type": a.contentType ?? "application/json", ...(a.location ? { location: a.location } : {}) });
            res.end(a.body);
            return;
        }
        if (f.spaFallback) {
            res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
            res.end("<!doctype html><html><head><title>DCM backoffice</title><script src=\"/assets/app.js\"></script></head><body><div id=app></div></body></html>");
            return;
        }
        json(res, 404, { error: "not found" });
    });
    const api = wrap("api", (req, body, res) => {
        const path = (req.url ?? "/").split("?")[0];
        if (path === "/.well-known/jwks.json") {
            if (!faults.api.jwksDown) return json(res, 200, faults.api.jwks ?? material.jwks);
            res.writeHead(503, { "content-type": "text/html" });
            res.end("<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>");
            return;
        }
        if (faults.api.upstreamDown) {
            res.writeHead(502, { "content-type": "text/html" });
            res.end("<html><body>502 Bad Gateway</body></html>");
            return;
        }
        if (dcm.handle(req, body, res)) return;
        json(res, 404, { error: "not found" });
    });
    const plain = wrap("plain", (req, _body, res) => {
        const f = faults.plain;
        if (f.noRedirect) {
            res.writeHead(200, { "content-type": "text/html" });
            res.end("<html>plain</html>");
            return;
        }
        const host = String(req.headers.host ?? "").split(":")[0];
        res.writeHead(308, { location: f.redirectTo ?? `https://${host}${req.url ?? "/"}` });
        res.end();
    });

    const certs = options.certs ?? {};
    const servers: http.Server[] = [
        https.createServer(await certFor(certs.backoffice ?? "valid", BACKOFFICE, pki), backoffice),
        https.createServer(await certFor(certs.api ?? "valid", API, pki), api),
        http.createServer(plain),
    ];
    const roles: Role[] = ["backoffice", "api", "plain"];

    const listen = (server: http.Server, port = 0) => new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
    // Every raw connection, so close() also ends those still in a TLS handshake.
    const sockets = new Set<Socket>();
    const track = (server: http.Server) => server.on("connection", (socket: Socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
    });
    // Servers take ephemeral ports as they listen (no reserve-then-rebind, which races with other tests for the
    // port). Only a server that starts late needs its port known before it listens: that one port is reserved.
    let late: NodeJS.Timeout | undefined;
    const start = async (server: http.Server, role: Role) => {
        track(server);
        if (options.startLate?.role !== role) {
            ports[role] = await listen(server);
            return;
        }
        const probe = http.createServer();
        ports[role] = await listen(probe);
        await new Promise<void>((r) => probe.close(() => r()));
        late = setTimeout(() => listen(server, ports[role]).catch(() => undefined), options.startLate.ms);
    };
    for (const [i, server] of servers.entries()) await start(server, roles[i]);

    // The key keeper fetches its JWKS from the api host, whose port is known now.
    const verify = options.verify ?? await createTokenVerifier({
        url: KEY_KEEPER_KEY_URL, audience: String(outputs.alias),
        algorithms: [String(outputs.signingAlgorithm)],
        jwksUrl: String(outputs.jwksUrl),
        jwksCa: [pki.caPem],
        jwksConnectTo: { host: "127.0.0.1", port: ports.api! },
    });
    const keyKeeperTls = await certFor(certs.keyKeeper ?? "valid", KEY_KEEPER, pki);
    const keyKeeperServer = createKeyKeeperServer({ verify, users: options.keyKeeperUsers ?? material.users, basePath: "/api", tls: keyKeeperTls });
    // Latency and 5xx faults in front of the key keeper too.
    const keyKeeperHandler = keyKeeperServer.listeners("request")[0] as (req: http.IncomingMessage, res: http.ServerResponse) => void;
    keyKeeperServer.removeAllListeners("request");
    keyKeeperServer.on("request", wrap("keyKeeper", (req, _body, res) => keyKeeperHandler(req, res)));
    servers.push(keyKeeperServer);
    roles.push("keyKeeper");
    await start(keyKeeperServer, "keyKeeper");
    const resolve = [
        `${BACKOFFICE}:443:127.0.0.1:${ports.backoffice}`,
        `${API}:443:127.0.0.1:${ports.api}`,
        `${BACKOFFICE}:80:127.0.0.1:${ports.plain}`,
        `${API}:80:127.0.0.1:${ports.plain}`,
        `${KEY_KEEPER}:443:127.0.0.1:${ports.keyKeeper}`,
    ];
    return {
        material, outputs, resolve, caPem: pki.caPem, faults, requests, maxInFlight, dcm,
        close: async () => {
            clearTimeout(late);
            const closed = servers.map((s) => new Promise<void>((r) => {
                if (!s.listening) return r();
                s.close(() => r());
                s.closeAllConnections();
            }));
            for (const socket of sockets) socket.destroy();
            await Promise.all(closed);
        },
    };
}
