/**
 * The reference key keeper's HTTP surface: `GET <basePath>/key` answers `{"users": [{"username", "secret"}]}`
 * to a request carrying a valid DCM token, 401 to anything else; `GET /healthz` answers 200.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { KeyKeeperUser } from "./users";
import { Rejection, Verify } from "./verifier";

export interface KeyKeeperServerOptions {
    /** Verifies the Authorization header; throws Rejection to refuse. */
    verify: Verify;
    /** The registered users. */
    users: KeyKeeperUser[];
    /** Path prefix of the key keeper's URL (e.g. "/api" for https://keykeeper.bank.example/api); default "". */
    basePath?: string;
    /** TLS certificate and key (PEM); without them the server speaks plain HTTP (behind a TLS proxy). */
    tls?: { cert: string; key: string };
    /** One line per request, never a token or a secret. */
    log?: (line: string) => void;
}

/**
 * A log line with every character a log reader treats specially escaped: anything outside printable
 * ASCII (line breaks, U+2028/U+2029/U+0085, controls, bidi overrides) becomes \\uXXXX and a backslash
 * doubles, so a caller's kid, jti or message can never start a line of its own or hide text.
 */
export function escapeLogLine(line: string): string {
    return line.replace(/[^\x20-\x5b\x5d-\x7e]/gu, (c) => (c === "\\" ? "\\\\" : [...c].map((u) => {
        const code = u.codePointAt(0)!;
        return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
    }).join("")));
}

function send(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...extra });
    res.end(JSON.stringify(body));
}

export function createKeyKeeperServer(options: KeyKeeperServerOptions): http.Server {
    const keyPath = `${(options.basePath ?? "").replace(/\/+$/, "")}/key`;
    const write = options.log ?? (() => undefined);
    // Every logged value may be the caller's (a kid, a jti, a reason quoting them): the whole line is escaped.
    const log = (line: string) => write(escapeLogLine(line));
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const path = (req.url ?? "/").split("?")[0];
        if (path === "/healthz") return send(res, 200, { status: "ok" });
        if (path !== keyPath) return send(res, 404, { error: "not_found" });
        if (req.method !== "GET") return send(res, 405, { error: "method_not_allowed" }, { allow: "GET" });
        options.verify(req.headers.authorization).then(
            (claims) => {
                log(`GET ${keyPath} 200 jti=${String(claims.jti)}`);
                send(res, 200, { users: options.users.map((u) => ({ username: u.username, secret: u.secret })) });
            },
            (e: unknown) => {
                if (!(e instanceof Rejection)) {
                    log(`GET ${keyPath} 503 ${(e as Error).message}`);
                    return send(res, 503, { error: "key_source_unavailable" }, { "retry-after": "5" });
                }
                log(`GET ${keyPath} 401 ${e.reason}`);
                // The caller learns only that the token is invalid, not why.
                send(res, 401, { error: "invalid_token" }, { "www-authenticate": "Bearer error=\"invalid_token\"" });
            },
        );
    };
    return options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);
}
