/**
 * DCM's API for the data-plane test, run as its own process inside the test's network namespace (the fake of
 * support/checks/dcm-api.ts, which plays scenarios/integration.yaml's contract: DCM's API cannot be had here).
 * HTTPS with the certificate of its Service name. Logs `REQUEST <method> <path> host=<Host>` for every request
 * it receives, so the test sees which paths the edge let through. Anything the fake does not know: 404.
 *
 * Environment: HOST, PORT, CERT and KEY (files), ALIAS, USERS (a 0600 file: JSON [{username, secret}]).
 */
import * as fs from "node:fs";
import * as https from "node:https";
import { createDcmApi } from "../checks/dcm-api";

const env = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
};
const users = JSON.parse(fs.readFileSync(env("USERS"), "utf8")) as { username: string; secret: string }[];
const dcm = createDcmApi(env("ALIAS"), users, {});
const server = https.createServer({ cert: fs.readFileSync(env("CERT")), key: fs.readFileSync(env("KEY")) }, (req, res) => {
    // The path and host only (never a header value: the Basic credentials stay out of the log).
    console.log(`REQUEST ${req.method} ${req.url} host=${String(req.headers.host).replace(/[^\w.:-]/g, "?")}`);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
        if (dcm.handle(req, Buffer.concat(chunks).toString("utf8"), res)) return;
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "not found", dcmApi: true }));
    });
});
server.listen(Number(env("PORT")), env("HOST"), () => console.log("LISTENING"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
