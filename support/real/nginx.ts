/**
 * Debian's nginx doing what ingress-nginx makes of the rendered Ingresses of one host: TLS with the test's
 * certificate, one location per Ingress path, ordered as ingress-nginx orders them (longest path first; with
 * `use-regex` on any Ingress of the host every path is a case-insensitive regex), `rewrite-target` as its
 * `rewrite ... break`, `upstream-vhost` as the Host header, and the `limit-rps` / `limit-burst-multiplier` / `limit-connections` annotations as its
 * limit_req / limit_conn zones keyed by client address, answering 503 over the limit (the controller's
 * default limit-req-status-code); `backend-protocol: HTTPS` with `proxy-ssl-verify`, `proxy-ssl-secret`,
 * `proxy-ssl-name` and `proxy-ssl-server-name` as the proxy_ssl_* directives the controller writes; and the
 * controller ConfigMap's `use-forwarded-headers: "true"` with `proxy-real-ip-cidr` as its realip directives
 * (`real_ip_header X-Forwarded-For`, `real_ip_recursive on`, one `set_real_ip_from` per range). Only these
 * annotations are emulated; any other nginx.ingress annotation on the host fails the translation, so a new one
 * cannot be silently ignored.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { RecordedResource } from "../../scripts/lib/engine/offline-run";
import { unwrapSecrets } from "../../domain/secret-values";
import { freePort, Running, start, waitUntil } from "./process";

const NGINX = "nginx.ingress.kubernetes.io/";
/** Annotations the translation knows; the TLS ones are what every listen here does anyway. */
const KNOWN = new Set(["use-regex", "rewrite-target", "limit-rps", "limit-burst-multiplier", "limit-connections", "ssl-redirect", "force-ssl-redirect", "upstream-vhost",
    "backend-protocol", "proxy-ssl-verify", "proxy-ssl-secret", "proxy-ssl-name", "proxy-ssl-server-name"]);
/** ingress-nginx's default burst multiplier. */
const DEFAULT_BURST_MULTIPLIER = 5;

export interface IngressPath {
    ingress: string;
    path: string;
    pathType: string;
    service: string;
    port: number;
    annotations: Record<string, string>;
}

/** The paths of every rendered Ingress rule for `host`, with their Ingress's annotations. */
export function ingressPaths(resources: RecordedResource[], host: string): IngressPath[] {
    const out: IngressPath[] = [];
    for (const r of resources.filter((x) => x.custom && x.type.endsWith(":Ingress"))) {
        const ing = unwrapSecrets(r.inputs) as any;
        const annotations: Record<string, string> = {};
        for (const [k, v] of Object.entries(ing.metadata?.annotations ?? {})) if (k.startsWith(NGINX)) annotations[k.slice(NGINX.length)] = String(v);
        for (const rule of ing.spec?.rules ?? []) {
            if (rule.host !== host) continue;
            for (const p of rule.http?.paths ?? []) {
                out.push({
                    ingress: ing.metadata.name, path: p.path, pathType: p.pathType, service: p.backend.service.name,
                    port: p.backend.service.port.number, annotations,
                });
            }
        }
    }
    return out;
}

export interface NginxSite {
    host: string;
    paths: IngressPath[];
}

/** The location blocks of one host, in ingress-nginx's order; rate-limit zones are appended to `zones`. */
function locations(site: NginxSite, upstreams: Record<string, number>, zones: string[], caFiles: Record<string, string>): string[] {
    const unknown = [...new Set(site.paths.flatMap((p) => Object.keys(p.annotations)).filter((a) => !KNOWN.has(a)))];
    if (unknown.length) throw new Error(`the nginx emulation of ingress-nginx does not know ${unknown.map((a) => NGINX + a).join(", ")}: teach support/real/nginx.ts`);
    const regex = site.paths.some((p) => p.annotations["use-regex"] === "true");
    // ingress-nginx: locations sorted by path length, longest first (regex locations match first-come).
    const sorted = [...site.paths].sort((a, b) => b.path.length - a.path.length);
    return sorted.map((p) => {
        const upstream = upstreams[`${p.service}:${p.port}`];
        if (upstream === undefined) throw new Error(`no upstream for Service ${p.service}:${p.port} (Ingress ${p.ingress})`);
        const lines: string[] = [];
        const zone = `z${zones.length}`;
        const rps = p.annotations["limit-rps"];
        if (rps) {
            const burst = Number(rps) * Number(p.annotations["limit-burst-multiplier"] ?? DEFAULT_BURST_MULTIPLIER);
            zones.push(`limit_req_zone $binary_remote_addr zone=${zone}rps:5m rate=${Number(rps)}r/s;`);
            lines.push(`limit_req zone=${zone}rps burst=${burst} nodelay;`);
        }
        const connections = p.annotations["limit-connections"];
        if (connections) {
            zones.push(`limit_conn_zone $binary_remote_addr zone=${zone}conn:5m;`);
            lines.push(`limit_conn ${zone}conn ${Number(connections)};`);
        }
        const target = p.annotations["rewrite-target"];
        if (target) lines.push(`rewrite "(?i)${p.path}" ${target} break;`);
        // ingress-nginx writes a Prefix path without a trailing slash as two locations, `= /a` and `/a/`, so that
        // it matches element-wise (/a, /a/b, never /ab); with use-regex on the host every path is a regex instead.
        const elementWise = !regex && p.pathType === "Prefix" && !p.path.endsWith("/");
        const matches = regex || p.pathType === "ImplementationSpecific" ? [`~* "^${p.path}"`] : p.pathType === "Exact" ? [`= ${p.path}`]
            : elementWise ? [`= ${p.path}`, `${p.path}/`] : [p.path];
        const vhost = p.annotations["upstream-vhost"];
        const https = p.annotations["backend-protocol"] === "HTTPS";
        if (https && p.annotations["proxy-ssl-verify"] === "on") {
            const ca = caFiles[p.annotations["proxy-ssl-secret"] ?? ""];
            if (!ca) throw new Error(`no CA file for proxy-ssl-secret ${p.annotations["proxy-ssl-secret"]} (Ingress ${p.ingress}): pass it in caFiles`);
            lines.push("proxy_ssl_verify on;", `proxy_ssl_trusted_certificate ${ca};`, "proxy_ssl_verify_depth 2;");
            if (p.annotations["proxy-ssl-name"]) lines.push(`proxy_ssl_name ${p.annotations["proxy-ssl-name"]};`);
            if (p.annotations["proxy-ssl-server-name"] === "on") lines.push("proxy_ssl_server_name on;");
        }
        return matches.map((match) => `        # Ingress ${p.ingress}
        location ${match} {
            ${lines.join("\n            ")}
            proxy_set_header Host ${vhost ?? "$host"};
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host $host;
            proxy_redirect off;
            proxy_pass ${https ? "https" : "http"}://127.0.0.1:${upstream};
        }`).join("\n");
    });
}

export interface NginxOptions {
    sites: NginxSite[];
    /** PEM files of a certificate valid for every site's host. */
    certFile: string;
    keyFile: string;
    /** `<service>:<port>` of the Ingress backends -> loopback port of their stand-in. */
    upstreams: Record<string, number>;
    /** `<namespace>/<secret>` of a proxy-ssl-secret annotation -> PEM file of the CA that Secret's `ca.crt` holds. */
    caFiles?: Record<string, string>;
    /**
     * The controller ConfigMap's `proxy-real-ip-cidr` with `use-forwarded-headers: "true"` (the platform's
     * trustedProxyCidrs); absent or empty: neither is set, and the connection's peer is the client address.
     */
    trustedProxyCidrs?: string[];
}

/** nginx.conf serving every site on one loopback TLS port, told apart by SNI and Host as the controller does. */
export function nginxConfig(options: NginxOptions & { listenPort: number; workDir: string }): string {
    const zones: string[] = [];
    const servers = options.sites.map((site) => `    server {
        listen 127.0.0.1:${options.listenPort} ssl;
        server_name ${site.host};
        ssl_certificate ${options.certFile};
        ssl_certificate_key ${options.keyFile};
${locations(site, options.upstreams, zones, options.caFiles ?? {}).join("\n")}
    }`);
    const w = options.workDir;
    return `daemon off;
master_process off;
pid ${w}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${w}/body;
    proxy_temp_path ${w}/proxy;
    fastcgi_temp_path ${w}/fastcgi;
    uwsgi_temp_path ${w}/uwsgi;
    scgi_temp_path ${w}/scgi;
    ${(options.trustedProxyCidrs ?? []).length > 0 ? ["real_ip_header X-Forwarded-For;", "real_ip_recursive on;", ...options.trustedProxyCidrs!.map((c) => `set_real_ip_from ${c};`)].join("\n    ") : "# use-forwarded-headers off: $remote_addr is the connection's peer"}
    limit_req_status 503;
    limit_conn_status 503;
    ${zones.join("\n    ")}
${servers.join("\n")}
}
`;
}

export interface RunningNginx {
    port: number;
    config: string;
    output(): string;
    stop(): Promise<void>;
}

/** Starts nginx (real:setup's `nginx`) with the translated config; ready when it accepts TLS connections. */
export async function startNginx(binary: string, options: NginxOptions): Promise<RunningNginx> {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-nginx-"));
    for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const config = nginxConfig({ ...options, listenPort: port, workDir });
        const file = path.join(workDir, "nginx.conf");
        fs.writeFileSync(file, config);
        const proc: Running = start(binary, ["-c", file, "-p", workDir, "-e", "stderr"]);
        try {
            await waitUntil("nginx", () => new Promise<boolean>((resolve) => {
                const s = net.connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
                s.on("error", () => resolve(false));
            }), proc, 20_000);
        } catch (e) {
            await proc.stop();
            if (attempt < 3 && /Address already in use/.test(proc.output())) continue;
            fs.rmSync(workDir, { recursive: true, force: true });
            throw e;
        }
        return {
            port,
            config,
            output: () => proc.output(),
            async stop() {
                await proc.stop();
                fs.rmSync(workDir, { recursive: true, force: true });
            },
        };
    }
}

/**
 * A backend stand-in: `spa` is a single-page frontend's server (every GET answers 200 with the same HTML page,
 * its fallback), so an admin probe routed there sees a 200 that reveals nothing; `not-found` answers 404 JSON
 * to everything (DCM's API and the JWKS server, which these tests do not exercise).
 */
export async function stubBackend(kind: "spa" | "not-found", tls?: { cert: string; key: string }): Promise<{ port: number; close(): Promise<void> }> {
    const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => {
        if (kind === "spa") {
            res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
            res.end("<!doctype html><html><head><title>Backoffice</title></head><body><div id=\"app\"></div></body></html>");
        } else {
            res.writeHead(404, { "content-type": "application/json" });
            res.end(JSON.stringify({ error: "not found" }));
        }
    };
    // With a certificate: an HTTPS upstream (DCM's API), which the proxy must verify.
    const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}
