/**
 * Kratos' admin API (the release the stack pins, v26.2.0), the parts the first-employee bootstrap uses, as the unit tests' stand-in. It
 * answers what real Kratos answers (test/real/kratos-contract.test.ts holds it to that): every identity has a
 * `password` credential from creation, whose config is empty until a password is set. It records every
 * request instead of asserting in the handler, so the tests assert on what the script sent.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { listenOnLoopback, readBody } from "./http";

export interface FakeIdentity {
    id: string;
    traits: { email: string };
    /** A bcrypt-looking hash once the employee has set a password. */
    hashedPassword?: string;
    createdAt: string;
}

export interface RecordedRequest {
    method: string;
    /** Path with query string. */
    url: string;
    body?: unknown;
}

export interface FakeKratosOptions {
    /** `selfservice.flows.recovery.ui_url` of the config: the admin API's recovery links point there. */
    recoveryUiUrl: string;
    /** `serve.public.base_url`: identities' schema_url is under it. */
    publicBaseUrl: string;
}

/** Kratos' error body (herodot's DefaultError). */
function error(code: number, status: string, message: string, reason?: string) {
    return { error: { code, status, message, ...(reason ? { reason } : {}) } };
}

const GO_DURATION = /^(\d+(ns|us|µs|ms|s|m|h))+$/;
const durationMs = (text: string): number => {
    const unit: Record<string, number> = { h: 3600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
    return [...text.matchAll(/(\d+)(ns|us|µs|ms|s|m|h)/g)].reduce((sum, [, n, u]) => sum + Number(n) * unit[u], 0);
};

export class FakeKratos {
    identities: FakeIdentity[] = [];
    /** Every request, in order. */
    requests: RecordedRequest[] = [];
    /** Recovery codes issued, in order. */
    codes: string[] = [];
    /** Answer 503 to this many readiness probes. */
    notReadyFor = 0;
    /** Answer 500 to identity creation. */
    failCreate = false;
    readonly server = http.createServer((req, res) => this.handle(req, res));

    constructor(private readonly options: FakeKratosOptions) {}

    listen(): Promise<string> {
        return listenOnLoopback(this.server).then(() => this.url);
    }

    get url(): string {
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    close(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    /** What the officer's settings flow does to the identity. */
    setPassword(id: string): void {
        const identity = this.identities.find((i) => i.id === id);
        if (!identity) throw new Error(`no identity ${id}`);
        identity.hashedPassword = `$2a$12$${crypto.randomBytes(40).toString("base64url").slice(0, 53)}`;
    }

    /** Requests of one method to one path (query ignored). */
    sent(method: string, pathname: string): RecordedRequest[] {
        return this.requests.filter((r) => r.method === method && new URL(r.url, "http://x").pathname === pathname);
    }

    /**
     * The identity as the admin API renders it: the password config only with include_credential=password,
     * metadata_admin on reads but not in the creation answer (as Kratos does).
     */
    private render(identity: FakeIdentity, includePassword: boolean, read = true): Record<string, unknown> {
        const email = identity.traits.email;
        const address = (extra: Record<string, unknown>) => ({
            id: crypto.createHash("sha256").update(identity.id + JSON.stringify(extra)).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/, "$1-$2-$3-$4-$5"),
            value: email,
            via: "email",
            created_at: identity.createdAt,
            updated_at: identity.createdAt,
            ...extra,
        });
        return {
            id: identity.id,
            credentials: {
                password: {
                    type: "password",
                    identifiers: [email],
                    ...(includePassword ? { config: identity.hashedPassword ? { hashed_password: identity.hashedPassword } : {} } : {}),
                    version: 0,
                    created_at: identity.createdAt,
                    updated_at: identity.createdAt,
                },
            },
            schema_id: "employee",
            schema_url: `${this.options.publicBaseUrl}/schemas/${Buffer.from("employee").toString("base64url")}`,
            state: "active",
            state_changed_at: identity.createdAt,
            traits: identity.traits,
            verifiable_addresses: [address({ verified: false, status: "pending" })],
            recovery_addresses: [address({})],
            metadata_public: null,
            ...(read ? { metadata_admin: null } : {}),
            created_at: identity.createdAt,
            updated_at: identity.createdAt,
            organization_id: null,
        };
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const url = new URL(req.url ?? "/", "http://kratos");
        const send = (status: number, body: unknown) => {
            res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
            res.end(JSON.stringify(body));
        };
        void readBody(req).then(({ raw, json, parsed }) => {
            const body: any = parsed ? json : raw || undefined;
            this.requests.push({ method: req.method ?? "GET", url: req.url ?? "/", ...(raw ? { body } : {}) });
            const include = url.searchParams.getAll("include_credential").includes("password");

            if (url.pathname === "/admin/health/ready" && req.method === "GET") {
                if (this.notReadyFor > 0) {
                    this.notReadyFor--;
                    return send(503, { errors: { database: "not ready" } });
                }
                return send(200, { status: "ok" });
            }
            if (url.pathname === "/admin/identities" && req.method === "GET") {
                const identifier = url.searchParams.get("credentials_identifier");
                // Kratos matches the identifier as stored: lower-cased email, exact.
                const found = identifier === null ? this.identities : this.identities.filter((i) => i.traits.email === identifier);
                return send(200, found.map((i) => this.render(i, include)));
            }
            if (url.pathname === "/admin/identities" && req.method === "POST") {
                if (this.failCreate) return send(500, error(500, "Internal Server Error", "An internal server error occurred, please contact the system administrator"));
                if (body?.schema_id !== "employee") return send(400, error(400, "Bad Request", "The request was malformed or contained invalid parameters"));
                const email = String(body?.traits?.email ?? "").toLowerCase();
                if (this.identities.some((i) => i.traits.email === email)) {
                    return send(409, error(409, "Conflict", "The resource could not be created due to a conflict", "This identity conflicts with another identity that already exists."));
                }
                const identity: FakeIdentity = { id: crypto.randomUUID(), traits: { ...body.traits, email }, createdAt: new Date().toISOString() };
                this.identities.push(identity);
                return send(201, this.render(identity, false, false));
            }
            const one = /^\/admin\/identities\/([^/]+)$/.exec(url.pathname);
            if (one && req.method === "GET") {
                const identity = this.identities.find((i) => i.id === one[1]);
                if (!identity) return send(404, error(404, "Not Found", "Unable to locate the resource"));
                return send(200, this.render(identity, include));
            }
            if (url.pathname === "/admin/recovery/code" && req.method === "POST") {
                const expiresIn = body?.expires_in ?? "1h";
                if (!GO_DURATION.test(expiresIn)) {
                    return send(400, error(400, "Bad Request", "The request was malformed or contained invalid parameters",
                        `Unable to parse "expires_in" whose format should match "[0-9]+(ns|us|ms|s|m|h)" but did not: ${expiresIn}`));
                }
                // Go prints a zero duration as 0s.
                if (durationMs(expiresIn) <= 0) {
                    return send(400, error(400, "Bad Request", "The request was malformed or contained invalid parameters", `Value from "expires_in" must result to a future time: 0s`));
                }
                const identity = this.identities.find((i) => i.id === body?.identity_id);
                if (!identity) return send(404, error(404, "Not Found", "Unable to locate the resource", "could not find identity"));
                const code = String(crypto.randomInt(0, 1_000_000)).padStart(6, "0");
                this.codes.push(code);
                const link = new URL(this.options.recoveryUiUrl);
                link.searchParams.set("flow", crypto.randomUUID());
                return send(201, {
                    recovery_link: link.toString(),
                    recovery_code: code,
                    expires_at: new Date(Date.now() + durationMs(expiresIn)).toISOString(),
                });
            }
            send(404, error(404, "Not Found", "The requested resource could not be found"));
        });
    }
}
