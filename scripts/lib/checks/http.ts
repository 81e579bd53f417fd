/**
 * The checks' HTTP(S) client: curl-style --resolve pinning (the URL's host name still goes in SNI, the
 * Host header and the certificate check), extra trusted CAs, a timeout per request, no redirects followed.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import { classifyNetworkError, InputError, TransientFailure } from "./errors";

export interface HttpResponse {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

export interface RequestOptions {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs: number;
}

/** What a TLS handshake showed, without trusting it. */
export interface TlsProbe {
    /** The chain verifies against the trusted roots (and --ca). */
    authorized: boolean;
    authorizationError?: string;
    /** Why the certificate is not valid for the host name, if it is not. */
    identityError?: string;
    subject: string;
    altNames: string;
    validFrom: Date;
    validTo: Date;
}

interface Pin {
    address: string;
    port: number;
}

/** Largest body read; checks look at small documents only. */
const MAX_BODY = 1 << 20;

/** Parses curl-style HOST:PORT:ADDRESS entries; an optional fourth part :PORT2 connects to another port. */
export function parseResolve(entries: string[]): Map<string, Pin> {
    const pins = new Map<string, Pin>();
    for (const entry of entries) {
        const m = /^([^:\s]+):(\d{1,5}):(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+)(?::(\d{1,5}))?$/.exec(entry);
        const address = m?.[3].replace(/^\[|\]$/g, "");
        if (!m || !address || !net.isIP(address)) {
            throw new InputError("--resolve", `'${entry}' is not HOST:PORT:ADDRESS (ADDRESS an IP address, IPv6 in brackets; optional :PORT2)`);
        }
        pins.set(`${m[1].toLowerCase()}:${Number(m[2])}`, { address, port: Number(m[4] ?? m[2]) });
    }
    return pins;
}

/** The CAs in NODE_EXTRA_CA_CERTS (a corporate CA), for Node versions without tls.getCACertificates. */
function extraCaCertificates(env: NodeJS.ProcessEnv): string[] {
    const file = env.NODE_EXTRA_CA_CERTS;
    if (!file) return [];
    try {
        return fs.readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    } catch {
        // Node itself only warns about an unreadable file; so do we, by trusting nothing more.
        return [];
    }
}

/**
 * Every CA Node trusts by default (its roots, NODE_EXTRA_CA_CERTS), the machine's system store, and the given
 * ones. A `ca` list replaces the defaults, and a fresh context with addCACert loses NODE_EXTRA_CA_CERTS
 * (nodejs/node#32010): so they are listed explicitly. "default" leaves out the system store when Node runs
 * with --use-openssl-ca (OpenSSL's store is then the default, but is not in that list): "system" is added.
 */
export function trustedCas(caPem: string[], env: NodeJS.ProcessEnv = process.env): string[] {
    const getCas = (tls as { getCACertificates?: (type: "default" | "system") => string[] }).getCACertificates;
    const defaults = typeof getCas === "function" ? [...getCas("default"), ...getCas("system")] : [...tls.rootCertificates, ...extraCaCertificates(env)];
    return [...new Set([...defaults, ...caPem])];
}

export class HttpClient {
    private readonly pins: Map<string, Pin>;
    private readonly secureContext?: tls.SecureContext;
    /**
     * Told every credential a request carries (the Authorization header's value after its scheme): the checks
     * register it with their redactor, so DCM's short-lived tokens the checks mint are masked wherever echoed.
     */
    onCredential?: (value: string) => void;

    constructor(resolve: string[] = [], caPem: string[] = []) {
        this.pins = parseResolve(resolve);
        this.secureContext = caPem.length ? tls.createSecureContext({ ca: trustedCas(caPem) }) : undefined;
    }

    private target(url: URL): { host: string; port: number; connectHost: string; connectPort: number } {
        const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
        const host = url.hostname.replace(/^\[|\]$/g, "");
        const pin = this.pins.get(`${host.toLowerCase()}:${port}`);
        return { host, port, connectHost: pin?.address ?? host, connectPort: pin?.port ?? port };
    }

    /** One request; network errors become TransientFailure/CheckFailure naming the URL (never its query). */
    request(urlText: string, options: RequestOptions): Promise<HttpResponse> {
        for (const [name, value] of Object.entries(options.headers ?? {})) {
            if (name.toLowerCase() === "authorization" && value) this.onCredential?.(value.replace(/^\S+\s+/, ""));
        }
        const url = new URL(urlText);
        const label = `${options.method ?? "GET"} ${url.origin}${url.pathname}`;
        const t = this.target(url);
        const secure = url.protocol === "https:";
        return new Promise<HttpResponse>((resolve, reject) => {
            const req = (secure ? https : http).request({
                host: t.connectHost,
                port: t.connectPort,
                method: options.method ?? "GET",
                path: `${url.pathname}${url.search}`,
                headers: { host: url.host, ...(options.body !== undefined ? { "content-length": String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
                agent: false,
                ...(secure ? { servername: net.isIP(t.host) ? undefined : t.host, secureContext: this.secureContext, rejectUnauthorized: true } : {}),
            });
            const timer = setTimeout(() => req.destroy(new TransientFailure(`${label}: no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
            timer.unref();
            req.on("error", (e) => {
                clearTimeout(timer);
                reject(classifyNetworkError(e, label));
            });
            req.on("response", (res) => {
                const chunks: Buffer[] = [];
                let size = 0;
                res.on("data", (c: Buffer) => {
                    size += c.length;
                    if (size <= MAX_BODY) chunks.push(c);
                });
                res.on("end", () => {
                    clearTimeout(timer);
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
                });
                res.on("error", (e) => {
                    clearTimeout(timer);
                    reject(classifyNetworkError(e, label));
                });
            });
            req.end(options.body);
        });
    }

    /**
     * Whether anything accepts a TCP connection for the URL's host and port (after --resolve pinning). A
     * network error is a TransientFailure carrying its code; a wrong answer is not this method's business.
     */
    reach(urlText: string, timeoutMs: number): Promise<void> {
        const url = new URL(urlText);
        const t = this.target(url);
        const label = `${t.host}:${t.port}`;
        return new Promise<void>((resolve, reject) => {
            const socket = net.connect({ host: t.connectHost, port: t.connectPort });
            const timer = setTimeout(() => socket.destroy(new TransientFailure(`${label}: no connection within ${timeoutMs} ms`, "CONNECT_TIMEOUT")), timeoutMs);
            timer.unref();
            socket.once("error", (e) => {
                clearTimeout(timer);
                reject(classifyNetworkError(e, label));
            });
            socket.once("connect", () => {
                clearTimeout(timer);
                socket.destroy();
                resolve();
            });
        });
    }

    /** A TLS handshake that accepts any certificate, to report exactly what is wrong with it. */
    probeTls(urlText: string, timeoutMs: number): Promise<TlsProbe> {
        const url = new URL(urlText);
        const t = this.target(url);
        const label = `TLS ${t.host}:${t.port}`;
        return new Promise<TlsProbe>((resolve, reject) => {
            const socket = tls.connect({
                host: t.connectHost, port: t.connectPort, servername: net.isIP(t.host) ? undefined : t.host,
                secureContext: this.secureContext, rejectUnauthorized: false,
            });
            const timer = setTimeout(() => socket.destroy(new TransientFailure(`${label}: no handshake within ${timeoutMs} ms`)), timeoutMs);
            timer.unref();
            socket.on("error", (e) => {
                clearTimeout(timer);
                reject(classifyNetworkError(e, label));
            });
            socket.on("secureConnect", () => {
                clearTimeout(timer);
                const cert = socket.getPeerCertificate();
                const identity = cert && Object.keys(cert).length ? tls.checkServerIdentity(t.host, cert) : new Error("no certificate");
                resolve({
                    authorized: socket.authorized,
                    authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
                    identityError: identity?.message,
                    subject: cert?.subject?.CN ? `CN=${String(cert.subject.CN)}` : "",
                    altNames: cert?.subjectaltname ?? "",
                    validFrom: new Date(cert?.valid_from ?? 0),
                    validTo: new Date(cert?.valid_to ?? 0),
                });
                socket.end();
            });
        });
    }
}
