/**
 * What the officer's browser does against the backoffice host, reduced to HTTP: TLS verified against the
 * test CA for the real host name (connected to the local proxy), a cookie jar, JSON in and out. Redirects
 * are not followed: the tests look at them.
 */
import * as https from "node:https";

export interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
    json?: any;
}

export class Browser {
    private readonly cookies = new Map<string, string>();

    /** `host` is served at 127.0.0.1:`port`, with a certificate `ca` signed. */
    constructor(private readonly host: string, private readonly port: number, private readonly ca: string) {}

    /** The jar's cookie names (values stay in the jar). */
    cookieNames(): string[] {
        return [...this.cookies.keys()];
    }

    request(pathOrUrl: string, options: { method?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
        const url = new URL(pathOrUrl, `https://${this.host}`);
        if (url.host !== this.host) throw new Error(`the browser only talks to ${this.host}, not ${url.host}`);
        const payload = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
        const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
        return new Promise((resolve, reject) => {
            const req = https.request({
                host: "127.0.0.1",
                port: this.port,
                servername: this.host,
                ca: this.ca,
                method: options.method ?? (payload ? "POST" : "GET"),
                path: url.pathname + url.search,
                timeout: 15_000,
                headers: {
                    host: this.host,
                    accept: "application/json",
                    ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}),
                    ...(cookie ? { cookie } : {}),
                    ...options.headers,
                },
            }, (res) => {
                for (const line of res.headers["set-cookie"] ?? []) {
                    const [pair, ...attributes] = line.split(";");
                    const eq = pair.indexOf("=");
                    const name = pair.slice(0, eq).trim();
                    const expired = attributes.some((a) => /^\s*max-age=(0|-)/i.test(a)) || pair.slice(eq + 1) === "";
                    if (expired) this.cookies.delete(name);
                    else this.cookies.set(name, pair.slice(eq + 1).trim());
                }
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let json: unknown;
                    try { json = JSON.parse(text); } catch { json = undefined; }
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
                });
            });
            req.on("timeout", () => req.destroy(new Error(`${url.pathname}: timed out`)));
            req.on("error", reject);
            if (payload) req.write(payload);
            req.end();
        });
    }
}

/** The value of the input node `name` of a Kratos flow's UI. */
export function nodeValue(flow: any, name: string): unknown {
    return flow?.ui?.nodes?.find((n: any) => n.attributes?.name === name)?.attributes?.value;
}

/** The text of the node with id `id` (e.g. the TOTP secret Kratos shows for manual entry). */
export function nodeText(flow: any, id: string): string | undefined {
    return flow?.ui?.nodes?.find((n: any) => n.attributes?.id === id)?.attributes?.text?.text;
}
