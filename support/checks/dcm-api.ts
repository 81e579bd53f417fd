/**
 * A fake DCM API that plays scenarios/integration.yaml's contract (our hypothesis of DCM's API), with
 * Basic auth by the bank's entity users and faults to inject.
 */
import * as crypto from "node:crypto";
import type * as http from "node:http";

export interface DcmFaults {
    /** GETs of an identifier request before a DCM Admin "confirms" it; default 1. */
    confirmAfterPolls?: number;
    /** Never confirm (the admin does not act). */
    neverConfirm?: boolean;
    /** The completed transfer reports this amount instead. */
    transferAmount?: string;
    /** Puts the processing user's password where the scenario expects `status` (a leak to be masked). */
    echoPassword?: boolean;
    /** Every string in every answer becomes a cut or an encoding of a user's password (canaries to be masked). */
    plantCanaries?: boolean;
}

/** Forms a leaked password takes: after a username and a colon, cut, base64, base64url, URL-encoded, in JSON text. */
export function leakedForms(username: string, secret: string): string[] {
    return [
        `${username}:${secret}`,
        secret.slice(3, -3),
        Buffer.from(secret).toString("base64"),
        Buffer.from(`x${secret}`).toString("base64url"),
        Buffer.from(`${username}:${secret}`).toString("base64"),
        encodeURIComponent(`${secret}/&?`),
        JSON.stringify({ secret: secret.slice(1) }),
    ];
}

/** The value with each string replaced by one of forms, in turn (keys kept: the scenario's paths still find them). */
export function plant(value: unknown, forms: string[], counter = { n: 0 }): unknown {
    if (typeof value === "string") return forms[counter.n++ % forms.length];
    if (Array.isArray(value)) return value.map((v) => plant(v, forms, counter));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plant(v, forms, counter)]));
    return value;
}

export interface DcmApi {
    handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): boolean;
    /** Customer secrets handed out (they must never appear in reports). */
    customerSecrets: string[];
    calls: string[];
}

export function createDcmApi(alias: string, users: { username: string; secret: string }[], faults: DcmFaults): DcmApi {
    const [identification, processing] = users;
    const requests = new Map<string, { amount: number; assetCode: string; polls: number }>();
    const transfers = new Map<string, { amount: string; polls: number }>();
    const customerSecrets: string[] = [];
    const calls: string[] = [];
    const id = () => crypto.randomUUID();
    const canaries = users.flatMap((u) => leakedForms(u.username, u.secret));
    const send = (res: http.ServerResponse, status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(faults.plantCanaries ? plant(body, canaries) : body));
    };
    const authorized = (req: http.IncomingMessage, user: { username: string; secret: string }) =>
        req.headers.authorization === `Basic ${Buffer.from(`${user.username}:${user.secret}`).toString("base64")}`;

    return {
        customerSecrets,
        calls,
        handle(req, raw, res) {
            const path = (req.url ?? "").split("?")[0];
            if (!path.startsWith("/v1/")) return false;
            calls.push(`${req.method} ${path}`);
            let body: Record<string, unknown> = {};
            try {
                body = raw ? JSON.parse(raw) as Record<string, unknown> : {};
            } catch {
                send(res, 400, { error: "bad json" });
                return true;
            }
            const user = path === "/v1/customer-secrets" ? identification : processing;
            if (!authorized(req, user)) {
                send(res, 401, { error: "unauthorized" });
                return true;
            }
            let m: RegExpExecArray | null;
            if (req.method === "POST" && path === "/v1/identifier-requests") {
                if (body.counterparty !== alias || !Number.isInteger(body.amount)) {
                    send(res, 422, { error: "counterparty or amount" });
                    return true;
                }
                const rid = id();
                requests.set(rid, { amount: body.amount as number, assetCode: String(body.assetCode), polls: 0 });
                send(res, 201, { id: rid, status: faults.echoPassword ? processing.secret : "pending", assetCode: body.assetCode, amount: body.amount });
            } else if (req.method === "GET" && (m = /^\/v1\/identifier-requests\/([\w-]+)$/.exec(path))) {
                const r = requests.get(m[1]);
                if (!r) {
                    send(res, 404, { error: "no such request" });
                    return true;
                }
                r.polls++;
                const confirmed = !faults.neverConfirm && r.polls > (faults.confirmAfterPolls ?? 1);
                send(res, 200, confirmed
                    ? { id: m[1], status: "confirmed", entity: "identification", identifiers: Array.from({ length: r.amount }, (_, i) => `${alias.toUpperCase()}-${r.assetCode}-${i + 1}`) }
                    : { id: m[1], status: "pending" });
            } else if (req.method === "POST" && path === "/v1/customer-secrets") {
                const secret = `CANARY-customer-${crypto.randomBytes(16).toString("hex")}`;
                customerSecrets.push(secret);
                send(res, 201, { identifier: body.identifier, secret });
            } else if (req.method === "POST" && path === "/v1/customers") {
                const accounts = Array.isArray(body.accounts) ? body.accounts as { currency?: string }[] : [];
                send(res, 201, { id: id(), identifier: body.identifier, accounts: accounts.map((a) => ({ id: id(), currency: a.currency })) });
            } else if (req.method === "POST" && path === "/v1/transfers") {
                const tid = id();
                transfers.set(tid, { amount: String(body.amount), polls: 0 });
                send(res, 202, { id: tid, status: "pending" });
            } else if (req.method === "GET" && (m = /^\/v1\/transfers\/([\w-]+)$/.exec(path))) {
                const t = transfers.get(m[1]);
                if (!t) {
                    send(res, 404, { error: "no such transfer" });
                    return true;
                }
                t.polls++;
                send(res, 200, { id: m[1], status: t.polls > 1 ? "completed" : "pending", amount: faults.transferAmount ?? t.amount });
            } else {
                send(res, 404, { error: "not found" });
            }
            return true;
        },
    };
}
