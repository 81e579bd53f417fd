/**
 * The webhook receiver: Jira Automation "Send web request" (shared token header) and Jira webhooks
 * (`X-Hub-Signature: sha256=<HMAC of the raw body>`) POST to /jira. A valid delivery is answered 202 at
 * once with a job id and queued; bad ones are answered with what is wrong and nothing is written.
 * Replays are refused (ReplayGuard): a delivery identifier or a body seen before (remembered across
 * restarts), a signed body whose `timestamp` is outside the window, or a delivery not newer than the
 * last one of its ticket (an Automation body without `timestamp` is ordered by the ticket's `updated`).
 * GET /healthz, GET /jobs/<id> (shared token, or an expiring HMAC of the path with the webhook secret).
 * Logs are JSON lines without headers, bodies or secrets. The handler reads route -> authenticate ->
 * admit -> enqueue.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Logger, silentLogger } from "./log";
import { ReplayGuard } from "./delivery-state";
import type { TicketReporter } from "./comment";
import { ignoredBecause, parseDelivery } from "./payload";
import type { Delivery } from "./payload";
import { JobQueue } from "./queue";
import type { OnboardingResult, Precheck, PreparedOnboarding } from "./pipeline";

/** Header carrying the shared token of Jira Automation rules. */
export const TOKEN_HEADER = "x-onboarding-token";
export const SIGNATURE_HEADER = "x-hub-signature";
export const DELIVERY_HEADER = "x-atlassian-webhook-identifier";
/** Header with the expiry (seconds since 1970) that a job-read signature covers. */
export const EXPIRES_HEADER = "x-onboarding-expires";
export const DEFAULT_MAX_BODY = 256 * 1024;
/** How old (or how far ahead of this clock) a signed delivery's `timestamp` may be. */
export const DEFAULT_MAX_AGE_MS = 5 * 60_000;
/** The longest a job-read signature may be valid for, from now. */
export const MAX_JOB_READ_S = 3600;
/**
 * What a job-read signature signs before the path: a context no delivery body can start with (bodies are
 * JSON), so a job-read signature is never a body signature and a body signature never reads a job.
 */
export const JOB_READ_CONTEXT = "dcm-onboarding/jobs-read/v1";

export interface ReceiverOptions {
    /** Shared token Automation rules send in X-Onboarding-Token. */
    token?: string;
    /** Secret of Jira webhooks, for X-Hub-Signature. */
    webhookSecret?: string;
    /** Largest body accepted, in bytes. */
    maxBodyBytes?: number;
    queue: JobQueue<OnboardingResult>;
    /** Jira field ids (and names) the mapping reads: a webhook update that changes none of them is ignored. */
    mappedFields?: string[];
    /**
     * The one pass over a delivery (pipeline.ts precheck): invalid data or a taken alias is answered at
     * once; a valid delivery comes back prepared, as the job uses it.
     */
    precheck: (delivery: Delivery) => Precheck;
    /** The job: the whole onboarding of one prepared delivery. */
    onboard: (prepared: PreparedOnboarding) => Promise<OnboardingResult>;
    /** Every comment on tickets (rejections at receipt, jobs that failed); none posts nothing. */
    reporter?: TicketReporter;
    /** The replay guard (seen ids, newest per ticket, last applied); default one in memory. */
    replay?: ReplayGuard;
    /** How old (or how far ahead) a delivery's `timestamp` may be; default 5 minutes. */
    maxAgeMs?: number;
    /** The clock (tests). */
    now?: () => number;
    log?: Logger;
}

export interface Receiver {
    server: http.Server;
    listen(port: number, host: string): Promise<AddressInfo>;
    /** Stops taking work, abandons queued jobs, waits up to graceMs for running ones; returns those still running. */
    close(graceMs: number): Promise<string[]>;
}

class HttpError extends Error {
    constructor(public readonly status: number, message: string, public readonly headers: Record<string, string> = {}) {
        super(message);
    }
}

/** Constant-time equality of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
    const ha = crypto.createHash("sha256").update(a).digest();
    const hb = crypto.createHash("sha256").update(b).digest();
    return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}

export function signBody(secret: string, body: Buffer | string): string {
    return `sha256=${crypto.createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** The X-Hub-Signature that reads `pathname` (/jobs/<id>) until `expires` (seconds since 1970). */
export function signJobRead(secret: string, pathname: string, expires: number): string {
    return signBody(secret, `${JOB_READ_CONTEXT}\n${pathname}\n${expires}`);
}

type Route = { kind: "health" } | { kind: "job"; id?: string; pathname: string } | { kind: "delivery" };

/** What an authenticated delivery is: one to ignore (200), or one to queue. Refusals are thrown. */
type Admitted =
    | { kind: "ignored"; delivery: Delivery; reason: string }
    | { kind: "accepted"; delivery: Delivery; prepared: PreparedOnboarding; idText?: string };

export function createReceiver(options: ReceiverOptions): Receiver {
    if (!options.token && !options.webhookSecret) throw new Error("the receiver needs a shared token or a webhook secret (or both)");
    const log = options.log ?? silentLogger;
    log.redact([options.token ?? "", options.webhookSecret ?? ""]);
    const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    const now = options.now ?? Date.now;
    const replay = options.replay ?? new ReplayGuard({ now });
    let closing = false;

    const tokenOk = (req: http.IncomingMessage): boolean => {
        const given = req.headers[TOKEN_HEADER];
        return typeof given === "string" && !!options.token && safeEqual(given, options.token);
    };

    /** Which resource, with the method it allows; 404 and 405 here. */
    function route(req: http.IncomingMessage): Route {
        const url = new URL(req.url ?? "/", "http://receiver");
        if (url.pathname === "/healthz") {
            if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "use GET /healthz", { allow: "GET, HEAD" });
            return { kind: "health" };
        }
        const job = /^\/jobs\/([0-9a-f-]{36})$/.exec(url.pathname);
        if (job || url.pathname.startsWith("/jobs/")) {
            if (req.method !== "GET") throw new HttpError(405, "use GET /jobs/<id>", { allow: "GET" });
            return { kind: "job", id: job?.[1], pathname: url.pathname };
        }
        if (url.pathname !== "/jira") throw new HttpError(404, "not found: POST /jira, GET /healthz, GET /jobs/<id>");
        if (req.method !== "POST") throw new HttpError(405, `${req.method} is not allowed on /jira; use POST`, { allow: "POST" });
        return { kind: "delivery" };
    }

    /**
     * A job is read with the shared token, or (a webhook-only setup) with the webhook secret's HMAC of the
     * context, the path and an expiry at most MAX_JOB_READ_S ahead: a leaked signature reads one job, briefly.
     */
    function authenticateJobRead(req: http.IncomingMessage, pathname: string): void {
        if (tokenOk(req)) return;
        const given = req.headers[SIGNATURE_HEADER];
        const expiresText = req.headers[EXPIRES_HEADER];
        const how = `GET /jobs/<id> needs the ${TOKEN_HEADER} header, or ${SIGNATURE_HEADER}: sha256=<HMAC with the webhook secret of "${JOB_READ_CONTEXT}\\n<path>\\n<expires>"> and ${EXPIRES_HEADER}: <expires, seconds since 1970, at most ${MAX_JOB_READ_S} s ahead>`;
        if (typeof given !== "string" || !options.webhookSecret) throw new HttpError(401, how);
        const expires = typeof expiresText === "string" && /^[0-9]{1,12}$/.test(expiresText) ? Number(expiresText) : NaN;
        const nowS = Math.floor(now() / 1000);
        if (!Number.isFinite(expires)) throw new HttpError(401, how);
        if (expires < nowS) throw new HttpError(401, `the job-read signature expired at ${new Date(expires * 1000).toISOString()}`);
        if (expires > nowS + MAX_JOB_READ_S) throw new HttpError(401, `the job-read signature's expiry is more than ${MAX_JOB_READ_S} s ahead`);
        if (!safeEqual(given, signJobRead(options.webhookSecret, pathname, expires))) throw new HttpError(401, how);
    }

    /** The body of an authenticated delivery: a wrong token is refused before the body is read, a signature after. */
    async function authenticateDelivery(req: http.IncomingMessage): Promise<{ raw: Buffer; hasToken: boolean }> {
        const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
        if (type !== "application/json") throw new HttpError(415, `content type must be application/json, got '${type || "none"}'`);
        if (closing) throw new HttpError(503, "shutting down; deliver again later", { "retry-after": "30" });
        const hasToken = req.headers[TOKEN_HEADER] !== undefined;
        if (hasToken && !tokenOk(req)) throw new HttpError(401, `the ${TOKEN_HEADER} header does not match`);
        const declared = Number(req.headers["content-length"] ?? "0");
        if (declared > maxBody) throw new HttpError(413, `the body is ${declared} bytes; at most ${maxBody} are accepted`);
        const raw = await readBody(req, maxBody);
        if (!hasToken) {
            const signature = req.headers[SIGNATURE_HEADER];
            if (typeof signature !== "string") throw new HttpError(401, `authentication required: the ${TOKEN_HEADER} header (Automation rules) or ${SIGNATURE_HEADER} (webhooks with a secret)`);
            if (!options.webhookSecret || !safeEqual(signature, signBody(options.webhookSecret, raw))) {
                throw new HttpError(401, `the ${SIGNATURE_HEADER} signature does not match the body`);
            }
        }
        return { raw, hasToken };
    }

    /**
     * Whether an authenticated delivery may become a job: not a replay (its id or its very body seen before,
     * outside the time window, not newer than its ticket's last), a trigger, and valid data (precheck).
     * Every refusal is remembered, so the same request sent again is refused before any work.
     */
    function admit(req: http.IncomingMessage, raw: Buffer, hasToken: boolean): Admitted {
        const deliveryId = req.headers[DELIVERY_HEADER];
        const idText = typeof deliveryId === "string" && deliveryId ? deliveryId.slice(0, 200) : undefined;
        // The identifier header is not signed and Automation sends none: the body's own digest identifies it too.
        const bodyId = ReplayGuard.bodyId(raw);
        const remember = (jobId?: string) => {
            if (idText) replay.remember(idText, jobId);
            replay.remember(bodyId, jobId);
        };
        for (const id of [idText, bodyId]) {
            const before = id ? replay.seenBefore(id) : undefined;
            if (before) {
                const what = id === idText ? `delivery ${idText}` : "this very body";
                throw new HttpError(409, `${what} was already received${before.jobId ? ` (job ${before.jobId})` : ""}; a replay is ignored`);
            }
        }
        let body: unknown;
        try {
            body = JSON.parse(raw.toString("utf8"));
        } catch (e) {
            throw new HttpError(400, `the body is not JSON: ${(e as Error).message}`);
        }
        const parsed = parseDelivery(body);
        if (!parsed.ok) throw new HttpError(400, parsed.message);
        const delivery = parsed.delivery;
        // The identifier header is not signed; the body's timestamp is. A signed body must carry one.
        if (delivery.timestamp === undefined && !hasToken) throw new HttpError(400, "a signed webhook body must carry 'timestamp' (Jira webhooks always do)");
        // An Automation body is not signed: the ticket's own last-edit time orders it, or a replay could run forever.
        if (delivery.version === undefined) {
            throw new HttpError(400, "the body must carry the ticket's 'fields.updated' (Jira's issue data always does) or a 'timestamp': without one a replay cannot be told from a new delivery");
        }
        if (delivery.timestamp !== undefined) {
            const age = now() - delivery.timestamp;
            if (Math.abs(age) > maxAge) {
                remember();
                const when = age > 0 ? `${Math.round(age / 1000)} s old` : `${Math.round(-age / 1000)} s ahead of this server's clock`;
                throw new HttpError(409, `the delivery's timestamp is ${when}; deliveries more than ${Math.round(maxAge / 1000)} s old or ahead are refused as replays`);
            }
        }
        const ignored = ignoredBecause(delivery, options.mappedFields ?? []);
        if (ignored) {
            remember();
            return { kind: "ignored", delivery, reason: ignored };
        }
        const pre = options.precheck(delivery);
        if (!pre.ok) {
            remember();
            options.reporter?.rejected(delivery.issueKey, pre.status, pre.problems);
            throw new Refused(delivery.issueKey, pre.alias, pre.status, pre.problems);
        }
        const stale = replay.admit(pre.alias, delivery.issueKey, delivery.version);
        if (stale) {
            remember();
            throw new HttpError(409, `${stale}; an older delivery is refused as a replay`);
        }
        return { kind: "accepted", delivery, prepared: pre.prepared, idText };
    }

    /** Queues the prepared delivery as its bank's job; 202 with where to follow it. */
    function enqueue(res: http.ServerResponse, raw: Buffer, a: Extract<Admitted, { kind: "accepted" }>): { status: number; fields: Record<string, unknown> } {
        const { prepared, idText } = a;
        const record = options.queue.submit(prepared.alias, { ticket: prepared.ticket, ...(idText ? { delivery: idText } : {}) }, () => options.onboard(prepared).catch((e: unknown) => {
            options.reporter?.jobFailed(prepared.ticket, prepared.alias, e);
            throw e;
        }));
        if (idText) replay.remember(idText, record.id);
        replay.remember(ReplayGuard.bodyId(raw), record.id);
        // `status` is the job's state word, as GET /jobs/<id> reports it; where to follow it is `job` (and Location).
        const jobPath = `/jobs/${record.id}`;
        send(res, 202, { jobId: record.id, ticket: prepared.ticket, stack: prepared.alias, status: record.state, job: jobPath }, { location: jobPath });
        return { status: 202, fields: { ticket: prepared.ticket, alias: prepared.alias, job: record.id, delivery: idText } };
    }

    async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<{ status: number; fields: Record<string, unknown> }> {
        const r = route(req);
        if (r.kind === "health") return send(res, closing ? 503 : 200, { status: closing ? "stopping" : "ok", ...options.queue.stats() });
        if (r.kind === "job") {
            authenticateJobRead(req, r.pathname);
            const record = r.id ? options.queue.get(r.id) : undefined;
            if (!record) throw new HttpError(404, "no such job");
            return send(res, 200, record);
        }
        const { raw, hasToken } = await authenticateDelivery(req);
        let admitted: Admitted;
        try {
            admitted = admit(req, raw, hasToken);
        } catch (e) {
            if (!(e instanceof Refused)) throw e;
            send(res, 422, { error: e.status === "invalid" ? "invalid onboarding data; nothing was written" : "refused; nothing was written", ticket: e.ticket, problems: e.problems });
            return { status: 422, fields: { ticket: e.ticket, alias: e.alias, problems: e.problems } };
        }
        if (admitted.kind === "ignored") {
            send(res, 200, { ignored: admitted.reason, ticket: admitted.delivery.issueKey });
            return { status: 200, fields: { ticket: admitted.delivery.issueKey, event: admitted.delivery.event, ignored: admitted.reason } };
        }
        return enqueue(res, raw, admitted);
    }

    const server = http.createServer((req, res) => {
        const started = process.hrtime.bigint();
        handle(req, res).then(
            ({ status, fields }) => log.log(status >= 400 ? "warn" : "info", "request", { method: req.method, path: pathOf(req), status, ms: elapsed(started), ...fields }),
            (e: unknown) => {
                const status = e instanceof HttpError ? e.status : 500;
                const message = e instanceof HttpError ? e.message : "internal error";
                if (!res.headersSent) send(res, status, { error: message }, e instanceof HttpError ? e.headers : {});
                if (status === 413) req.resume();
                log.log(status >= 500 ? "error" : "warn", "request", { method: req.method, path: pathOf(req), status, ms: elapsed(started), error: e instanceof HttpError ? message : (e as Error).message });
            },
        );
    });
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;

    return {
        server,
        listen: (port, host) => new Promise((resolve, reject) => {
            server.once("error", reject);
            server.listen(port, host, () => resolve(server.address() as AddressInfo));
        }),
        async close(graceMs) {
            closing = true;
            const closed = new Promise<void>((r) => server.close(() => r()));
            server.closeIdleConnections();
            const deadline = Date.now() + graceMs;
            const still = await options.queue.stop(graceMs);
            // Comments still being posted get what is left of the grace period, not more.
            await options.reporter?.settle(deadline - Date.now());
            server.closeAllConnections();
            await closed;
            return still;
        },
    };
}

/** Data the precheck refused (422): invalid, or an alias that is not this ticket's. */
class Refused extends Error {
    constructor(public readonly ticket: string, public readonly alias: string | undefined, public readonly status: "invalid" | "rejected", public readonly problems: string[]) {
        super(`${status}: ${problems.join("; ")}`);
    }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): { status: number; fields: Record<string, unknown> } {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
    res.end(text);
    return { status, fields: {} };
}

/** Reads the body, refusing (413) past `max` bytes. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let over = false;
        req.on("data", (c: Buffer) => {
            if (over) return;
            size += c.length;
            if (size > max) {
                over = true;
                reject(new HttpError(413, `the body exceeds ${max} bytes`));
                return;
            }
            chunks.push(c);
        });
        req.on("end", () => { if (!over) resolve(Buffer.concat(chunks)); });
        req.on("error", reject);
    });
}

function pathOf(req: http.IncomingMessage): string {
    return (req.url ?? "/").split("?")[0].slice(0, 100);
}

function elapsed(started: bigint): number {
    return Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
}
