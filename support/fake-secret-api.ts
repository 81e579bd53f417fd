/**
 * The Kubernetes API server as the first-employee bootstrap meets it: GET and merge-PATCH of one Secret,
 * behind a bearer token, over TLS. Records every request; the tests assert on them.
 */
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { listenOnLoopback, readBody } from "./http";

export interface FakeSecretApiOptions {
    namespace: string;
    secretName: string;
    /** The ServiceAccount token it accepts. */
    token: string;
}

export class FakeSecretApi {
    /** The Secret's data, decoded. */
    data: Record<string, string> = {};
    /** Every authorised request: method, path, content type and body as sent. */
    requests: { method: string; url: string; contentType?: string; body?: string }[] = [];
    token: string;
    /** Answer 403 to writes only (a Role without `patch`). */
    refusePatch = false;
    server!: https.Server;

    constructor(private readonly options: FakeSecretApiOptions) {
        this.token = options.token;
    }

    get patches(): number {
        return this.requests.filter((r) => r.method === "PATCH").length;
    }

    get url(): string {
        return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    listen(pki: { cert: string; key: string }): Promise<void> {
        const expected = `/api/v1/namespaces/${this.options.namespace}/secrets/${this.options.secretName}`;
        this.server = https.createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
            void readBody(req).then(({ raw }) => {
                if (req.headers.authorization !== `Bearer ${this.token}`) { res.writeHead(403).end("{}"); return; }
                this.requests.push({ method: req.method ?? "", url: req.url ?? "", contentType: req.headers["content-type"], ...(raw ? { body: raw } : {}) });
                if (req.url !== expected) { res.writeHead(404).end("{}"); return; }
                if (req.method === "PATCH" && this.refusePatch) { res.writeHead(403).end("{}"); return; }
                if (req.method === "PATCH" && req.headers["content-type"] === "application/merge-patch+json") {
                    for (const [k, v] of Object.entries(JSON.parse(raw).data as Record<string, string | null>)) {
                        if (v === null) delete this.data[k];
                        else this.data[k] = Buffer.from(v, "base64").toString("utf8");
                    }
                } else if (req.method !== "GET") {
                    res.writeHead(405).end("{}");
                    return;
                }
                const data = Object.fromEntries(Object.entries(this.data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
                res.writeHead(200, { "content-type": "application/json" });
                res.end(JSON.stringify({ kind: "Secret", apiVersion: "v1", metadata: { name: this.options.secretName, namespace: this.options.namespace }, type: "Opaque", data }));
            });
        });
        return listenOnLoopback(this.server).then(() => undefined);
    }

    close(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}
