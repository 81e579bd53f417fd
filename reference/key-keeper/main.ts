/**
 * `npm run key-keeper -- --audience <alias> (--jwks-url URL | --public-key FILE) [options]`: runs the
 * reference key keeper. See README.md.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { createKeyKeeperServer } from "./server";
import { loadUsers } from "./users";
import { createTokenVerifier, DCM_ISSUER } from "./verifier";

const USAGE = `Usage: npm run key-keeper -- --audience ALIAS (--jwks-url URL | --public-key FILE) [options]

Serves GET <base-path>/key to DCM's Processing Center: the registered users' secrets, only for a JWT
signed by DCM's key (typ JWT, no jku, x5u, jwk or x5c header) with iss, aud = ALIAS, exp at most
5 minutes after iat, nbf, and a jti never seen before.

  --audience ALIAS        the bank alias (required)
  --jwks-url URL          DCM's JWKS (the stack output jwksUrl)
  --jwks-ca FILE          trust this CA when fetching the JWKS (self-signed environments)
  --public-key FILE       DCM's public key (SPKI PEM, the stack output publicKeyPem) instead of the JWKS
  --algorithms LIST       accepted algorithms, comma-separated (default ES256)
  --issuer ISS            required iss (default ${DCM_ISSUER})
  --users FILE            the users' secrets (JSON); default the KEY_KEEPER_USERS variable
  --base-path PATH        path prefix, e.g. /api (default none)
  --tls-cert FILE --tls-key FILE   serve HTTPS (default plain HTTP, behind a TLS proxy)
  --host ADDR --port N    listen address (default 127.0.0.1:8443)

Guide: docs/banks.md#the-reference-implementation (the contract: reference/key-keeper/README.md)`;

/** Runs until SIGINT/SIGTERM; returns the exit code (2 for bad usage). */
export async function main(argv: string[], stderr: { write(text: string): unknown } = process.stderr): Promise<number> {
    let v;
    try {
        v = parseArgs({
            args: argv, options: {
                audience: { type: "string" }, "jwks-url": { type: "string" }, "jwks-ca": { type: "string" }, "public-key": { type: "string" },
                algorithms: { type: "string" }, issuer: { type: "string" }, users: { type: "string" }, "base-path": { type: "string" },
                "tls-cert": { type: "string" }, "tls-key": { type: "string" }, host: { type: "string" }, port: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        }).values;
    } catch (e) {
        stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
        return 2;
    }
    if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const problems = [
        !v.audience && "--audience is required",
        !v["jwks-url"] === !v["public-key"] && "give exactly one of --jwks-url and --public-key",
        !v["tls-cert"] !== !v["tls-key"] && "--tls-cert and --tls-key go together",
        v.port !== undefined && !/^\d{1,5}$/.test(v.port) && "--port must be a number",
    ].filter(Boolean);
    if (problems.length) {
        stderr.write(`${problems.join("\n")}\n\n${USAGE}\n`);
        return 2;
    }
    const verify = await createTokenVerifier({
        audience: v.audience!,
        issuer: v.issuer,
        algorithms: v.algorithms?.split(",").map((a) => a.trim()),
        jwksUrl: v["jwks-url"],
        jwksCa: v["jwks-ca"] ? [fs.readFileSync(v["jwks-ca"], "utf8")] : undefined,
        publicKeyPem: v["public-key"] ? fs.readFileSync(v["public-key"], "utf8") : undefined,
    });
    const users = loadUsers(v.users);
    const server = createKeyKeeperServer({
        verify, users, basePath: v["base-path"],
        tls: v["tls-cert"] ? { cert: fs.readFileSync(v["tls-cert"], "utf8"), key: fs.readFileSync(v["tls-key"]!, "utf8") } : undefined,
        log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    const host = v.host ?? "127.0.0.1";
    server.listen(Number(v.port ?? 8443), host, () => {
        const addr = server.address();
        const port = typeof addr === "object" && addr ? addr.port : v.port;
        process.stderr.write(`key keeper: ${users.length} users, GET ${v["tls-cert"] ? "https" : "http"}://${host}:${port}${v["base-path"] ?? ""}/key (aud ${v.audience})\n`);
    });
    await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
    });
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => { process.exitCode = code; },
        (e: unknown) => {
            process.stderr.write(`key keeper: ${e instanceof Error ? e.message : String(e)}\n`);
            process.exitCode = 1;
        },
    );
}
