/**
 * The checks' HTTP(S) client: curl-style --resolve pinning (the URL's host name still goes in SNI, the
 * Host header and the certificate check), extra trusted CAs, a timeout per request, no redirects followed.
 */
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

/**
 * A TLS context trusting the default roots and the given CAs. Node's `ca` option replaces the roots and
 * re-parses all of them for every context; adding to the default store reuses the parsed roots.
 */
function trustingAlso(caPem: string[]): tls.SecureContext {
    const context = tls.createSecureContext();
    const native = (context as unknown as { context?: { addCACert?: (pem: string) => void } }).context;
    if (typeof native?.addCACert !== "function") return tls.createSecureContext({ ca: [...tls.rootCertificates, ...caPem] });
    for (const pem of caPem) native.addCACert(pem);
    return context;
}

export class HttpClient {
    private readonly pins: Map<string, Pin>;
    private readonly secureContext?: tls.SecureContext;

    constructor(resolve: string[] = [], caPem: string[] = []) {
        this.pins = parseResolve(resolve);
        this.secureContext = caPem.length ? trustingAlso(caPem) : undefined;
    }

    private target(url: URL): { host: string; port: number; connectHost: string; connectPort: number } {
        const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
        const host = url.hostname.replace(/^\[|\]$/g, "");
        const pin = this.pins.get(`${host.toLowerCase()}:${port}`);
        return { host, port, connectHost: pin?.address ?? host, connectPort: pin?.port ?? port };
    }

    /** One request; network errors become TransientFailure/CheckFailure naming the URL (never its query). */
    request(urlText: string, options: RequestOptions): Promise<HttpResponse> {
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
