/** What the tests' fake HTTP servers share: reading a request's body (JSON when it is JSON) and a loopback port. */
import type * as http from "node:http";
import type { AddressInfo } from "node:net";

/** A request's body: its text, and its JSON value when the text parses (`parsed`). */
export interface RequestBody {
    raw: string;
    json: any;
    parsed: boolean;
}

/** Reads a request's whole body. */
export function readBody(req: http.IncomingMessage): Promise<RequestBody> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("error", reject);
        req.on("end", () => {
            const raw = Buffer.concat(chunks).toString("utf8");
            try {
                resolve(raw ? { raw, json: JSON.parse(raw), parsed: true } : { raw, json: undefined, parsed: false });
            } catch {
                resolve({ raw, json: undefined, parsed: false });
            }
        });
    });
}

/** Starts a server on a free loopback port (tests never listen elsewhere) and gives the port. */
export function listenOnLoopback(server: http.Server, port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve((server.address() as AddressInfo).port);
        });
    });
}
