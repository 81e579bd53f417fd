/**
 * The webhook receiver: Jira Automation "Send web request" (shared token header) and Jira webhooks
 * (`X-Hub-Signature: sha256=<HMAC of the raw body>`) POST to /jira. A valid delivery is answered 202 at
 * once with a job id and queued; bad ones are answered with what is wrong and nothing is written.
 * Replays are refused: a delivery identifier seen before (remembered across restarts), a signed body
 * whose `timestamp` is outside the window, or one not newer than the last delivery of its ticket.
 * GET /healthz, GET /jobs/<id> (shared token, or the webhook secret's HMAC of the path). Logs are JSON
 * lines without headers, bodies or secrets.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { AdfDoc } from "../jira/adf";
import { Logger, silentLogger } from "./log";
import type { AppliedDeliveries } from "./delivery-state";
import { SeenDeliveries } from "./delivery-state";
import { failureComment } from "./comment";
import { ignoredBecause, parseDelivery } from "./payload";
import type { Delivery } from "./payload";
import { JobQueue } from "./queue";
import { OnboardingResult, rejectionComment } from "./pipeline";

/** Header carrying the shared token of Jira Automation rules. */
export const TOKEN_HEADER = "x-onboarding-token";
export const SIGNATURE_HEADER = "x-hub-signature";
export const DELIVERY_HEADER = "x-atlassian-webhook-identifier";
export const DEFAULT_MAX_BODY = 256 * 1024;
/** How old (or how far ahead of this clock) a signed delivery's `timestamp` may be. */
export const DEFAULT_MAX_AGE_MS = 5 * 60_000;
/** How long an identical rejection of a ticket is not commented again. */
const REPEAT_COMMENT_MS = 10 * 60_000;

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
     * The fast check at receipt: invalid data or a taken alias is answered at once. A valid delivery comes
     * back as the job receives it: only the mapped, validated fields (mappedDelivery).
     */
    precheck: (delivery: Delivery) => { ok: true; alias: string; delivery: Delivery } | { ok: false; alias?: string; status: "invalid" | "rejected"; problems: string[] };
    /** The job: the whole onboarding of one delivery (the precheck's). */
    onboard: (delivery: Delivery) => Promise<OnboardingResult>;
    /**
     * Makes an accepted delivery durable before its 202 (the operator engine: the bank's Stack object in the
     * cluster); returns where it is. A failure answers 503 and nothing is queued.
     */
    accept?: (alias: string, delivery: Delivery) => Promise<string>;
    /** Posts a comment on a rejected ticket (in the background). */
    comment?: (ticket: string, body: AdfDoc) => Promise<void>;
    /** How long a delivery id is remembered. */
    dedupeTtlMs?: number;
    /** Where seen delivery ids are kept across restarts (a file in the state directory); default memory only. */
    seenFile?: string;
    /** The last delivery applied per bank (kept by the jobs); a delivery not newer than it is refused. */
    applied?: AppliedDeliveries;
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

export function createReceiver(options: ReceiverOptions): Receiver {
    if (!options.token && !options.webhookSecret) throw new Error("the receiver needs a shared token or a webhook secret (or both)");
    const log = options.log ?? silentLogger;
    log.redact([options.token ?? "", options.webhookSecret ?? ""]);
    const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const ttl = options.dedupeTtlMs ?? 24 * 3600_000;
    const maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    const now = options.now ?? Date.now;
    const seen = new SeenDeliveries(options.seenFile, ttl, 10_000, now);
    // The newest timestamp accepted per ticket: an older delivery queued behind it would roll it back.
    const newest = new Map<string, number>();
    const background = new Set<Promise<void>>();
    const commented = new Map<string, { said: string; at: number }>();
    let closing = false;

    const remember = (id: string, jobId?: string) => seen.remember(id, jobId);

    const tokenOk = (req: http.IncomingMessage): boolean => {
        const given = req.headers[TOKEN_HEADER];
        return typeof given === "string" && !!options.token && safeEqual(given, options.token);
    };
    // A webhook-only setup reads a job with the webhook secret's HMAC of the path, as it signs bodies.
    const pathSignatureOk = (req: http.IncomingMessage, pathname: string): boolean => {
        const given = req.headers[SIGNATURE_HEADER];
        return typeof given === "string" && !!options.webhookSecret && safeEqual(given, signBody(options.webhookSecret, pathname));
    };

    async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<{ status: number; fields: Record<string, unknown> }> {
        const url = new URL(req.url ?? "/", "http://receiver");
        if (url.pathname === "/healthz") {
            if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "use GET /healthz", { allow: "GET, HEAD" });
            return send(res, closing ? 503 : 200, { status: closing ? "stopping" : "ok", ...options.queue.stats() });
        }
        const job = /^\/jobs\/([0-9a-f-]{36})$/.exec(url.pathname);
        if (job || url.pathname.startsWith("/jobs/")) {
            if (req.method !== "GET") throw new HttpError(405, "use GET /jobs/<id>", { allow: "GET" });
            if (!tokenOk(req) && !pathSignatureOk(req, url.pathname)) {
                throw new HttpError(401, `GET /jobs/<id> needs the ${TOKEN_HEADER} header, or ${SIGNATURE_HEADER}: sha256=<HMAC of the path with the webhook secret>`);
            }
            const record = job ? options.queue.get(job[1]) : undefined;
            if (!record) throw new HttpError(404, "no such job");
            return send(res, 200, record);
        }
        if (url.pathname !== "/jira") throw new HttpError(404, "not found: POST /jira, GET /healthz, GET /jobs/<id>");
        if (req.method !== "POST") throw new HttpError(405, `${req.method} is not allowed on /jira; use POST`, { allow: "POST" });
        const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
        if (type !== "application/json") throw new HttpError(415, `content type must be application/json, got '${type || "none"}'`);
        if (closing) throw new HttpError(503, "shutting down; deliver again later", { "retry-after": "30" });
        // A wrong token is refused before the body is read.
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
        const deliveryId = req.headers[DELIVERY_HEADER];
        const idText = typeof deliveryId === "string" && deliveryId ? deliveryId.slice(0, 200) : undefined;
        if (idText) {
            const before = seen.get(idText);
            if (before) {
                throw new HttpError(409, `delivery ${idText} was already received${before.jobId ? ` (job ${before.jobId})` : ""}; a replay is ignored`);
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
        if (delivery.timestamp !== undefined) {
            const age = now() - delivery.timestamp;
            if (Math.abs(age) > maxAge) {
                if (idText) remember(idText);
                const when = age > 0 ? `${Math.round(age / 1000)} s old` : `${Math.round(-age / 1000)} s ahead of this server's clock`;
                throw new HttpError(409, `the delivery's timestamp is ${when}; deliveries more than ${Math.round(maxAge / 1000)} s old or ahead are refused as replays`);
            }
        }
        const ignored = ignoredBecause(delivery, options.mappedFields ?? []);
        if (ignored) {
            if (idText) remember(idText);
            send(res, 200, { ignored, ticket: delivery.issueKey });
            return { status: 200, fields: { ticket: delivery.issueKey, event: delivery.event, ignored } };
        }
        const pre = options.precheck(delivery);
        if (!pre.ok) {
            if (idText) remember(idText);
            // The same rejection of the same ticket is commented once in a while, not on every delivery.
            const said = `${delivery.issueKey}\n${pre.problems.join("\n")}`;
            const last = commented.get(delivery.issueKey);
            if (options.comment && !(last && last.said === said && Date.now() - last.at < REPEAT_COMMENT_MS)) {
                commented.set(delivery.issueKey, { said, at: Date.now() });
                if (commented.size > 10_000) commented.delete(commented.keys().next().value!);
                track(options.comment(delivery.issueKey, rejectionComment(pre.status, pre.problems)));
            }
            send(res, 422, { error: pre.status === "invalid" ? "invalid onboarding data; nothing was written" : "refused; nothing was written", ticket: delivery.issueKey, problems: pre.problems });
            return { status: 422, fields: { ticket: delivery.issueKey, alias: pre.alias, problems: pre.problems } };
        }
        if (delivery.timestamp !== undefined) {
            const last = newest.get(delivery.issueKey);
            const stale = options.applied?.staleBecause(pre.alias, delivery.issueKey, delivery.timestamp)
                ?? (last !== undefined && delivery.timestamp <= last ? `a delivery of ${delivery.issueKey} sent at ${new Date(last).toISOString()} was accepted already; this one was sent at ${new Date(delivery.timestamp).toISOString()}` : undefined);
            if (stale) {
                if (idText) remember(idText);
                throw new HttpError(409, `${stale}; an older delivery is refused as a replay`);
            }
            newest.set(delivery.issueKey, delivery.timestamp);
            if (newest.size > 10_000) newest.delete(newest.keys().next().value!);
        }
        const mapped = pre.delivery;
        let durable: string | undefined;
        if (options.accept) {
            try {
                durable = await options.accept(pre.alias, mapped);
            } catch (e) {
                newest.delete(delivery.issueKey);
                log.log("error", "could not record the delivery durably", { ticket: delivery.issueKey, alias: pre.alias, error: (e as Error).message.split("\n")[0] });
                throw new HttpError(503, "the delivery could not be recorded durably; nothing was accepted, deliver again later", { "retry-after": "60" });
            }
        }
        const record = options.queue.submit(pre.alias, { ticket: delivery.issueKey, ...(idText ? { delivery: idText } : {}) }, () => options.onboard(mapped).catch((e: unknown) => {
            // The ticket hears of a job that failed after its 202 too, not only the job's status page.
            if (options.comment) {
                const message = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 300);
                track(options.comment(mapped.issueKey, failureComment(`Onboarding of '${pre.alias}' failed`, [message], "The delivery was accepted but its job failed; DevOps can rerun it with npm run onboard, or deliver the ticket again.")));
            }
            throw e;
        }));
        if (idText) remember(idText, record.id);
        // `status` is the job's state word, as GET /jobs/<id> reports it; where to follow it is `job` (and Location).
        const jobPath = `/jobs/${record.id}`;
        send(res, 202, { jobId: record.id, ticket: delivery.issueKey, stack: pre.alias, status: record.state, job: jobPath, ...(durable ? { durable } : {}) }, { location: jobPath });
        return { status: 202, fields: { ticket: delivery.issueKey, alias: pre.alias, job: record.id, delivery: idText, ...(durable ? { durable } : {}) } };
    }

    function track(p: Promise<void>): void {
        const t = p.catch((e: unknown) => log.log("error", "jira comment failed", { error: (e as Error).message })).finally(() => background.delete(t));
        background.add(t);
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
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([Promise.all([...background]), new Promise<void>((r) => { timer = setTimeout(r, Math.max(0, deadline - Date.now())); })]);
            clearTimeout(timer);
            server.closeAllConnections();
            await closed;
            return still;
        },
    };
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
