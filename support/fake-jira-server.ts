/**
 * A fake Jira Cloud site on 127.0.0.1: records every call, checks basic auth, serves comments and
 * transitions, and answers with injected faults (429 with Retry-After, 5xx) when told to.
 */
import * as http from "node:http";
import { listenOnLoopback, readBody } from "./http";

export interface RecordedCall {
    method: string;
    path: string;
    /** The raw body text (what a leak test searches). */
    text: string;
    body: any;
    authorized: boolean;
}

export interface Fault {
    status: number;
    headers?: Record<string, string>;
    body?: unknown;
}

export interface FakeJira {
    url: string;
    calls: RecordedCall[];
    /** Answers for the next requests, in order, before normal service resumes. */
    faults: Fault[];
    /** Transitions GET /transitions lists. */
    transitions: { id: string; name: string; to: { name: string } }[];
    /** Comment calls that succeeded. */
    comments(): RecordedCall[];
    close(): Promise<void>;
}

export async function startFakeJira(email: string, token: string): Promise<FakeJira> {
    const expected = `Basic ${Buffer.from(`${email}:${token}`).toString("base64")}`;
    const calls: RecordedCall[] = [];
    const faults: Fault[] = [];
    const transitions = [
        { id: "11", name: "Start progress", to: { name: "In Progress" } },
        { id: "31", name: "Resolve", to: { name: "Done" } },
    ];
    const server = http.createServer((req, res) => {
        void readBody(req).then(({ raw: text, json: body }) => {
            const call: RecordedCall = { method: req.method ?? "", path: req.url ?? "", text, body, authorized: req.headers.authorization === expected };
            calls.push(call);
            const reply = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
                res.writeHead(status, { "content-type": "application/json", ...headers });
                res.end(payload === undefined ? "" : JSON.stringify(payload));
            };
            const fault = faults.shift();
            if (fault) return reply(fault.status, fault.body ?? { errorMessages: [`injected ${fault.status}`] }, fault.headers);
            if (!call.authorized) return reply(401, { errorMessages: ["Client must be authenticated to access this resource."] });
            const m = /^\/rest\/api\/3\/issue\/([A-Z][A-Z0-9_]*-\d+)\/(comment|transitions)$/.exec(call.path);
            if (!m) return reply(404, { errorMessages: ["Issue does not exist or you do not have permission to see it."] });
            if (m[2] === "comment" && call.method === "POST") {
                if (body?.body?.type !== "doc" || body.body.version !== 1) return reply(400, { errors: { comment: "Comment body is not valid ADF." } });
                return reply(201, { id: String(10000 + calls.length) });
            }
            if (m[2] === "transitions" && call.method === "GET") return reply(200, { transitions });
            if (m[2] === "transitions" && call.method === "POST") {
                return transitions.some((t) => t.id === body?.transition?.id) ? reply(204) : reply(400, { errorMessages: ["Transition id is not valid."] });
            }
            return reply(405, { errorMessages: ["method not allowed"] });
        });
    });
    const port = await listenOnLoopback(server);
    server.unref();
    return {
        url: `http://127.0.0.1:${port}`,
        calls,
        faults,
        transitions,
        comments: () => calls.filter((c) => c.method === "POST" && c.path.endsWith("/comment") && c.authorized),
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
    };
}
