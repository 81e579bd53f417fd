/**
 * `npm run key-keeper -- --audience <alias> (--jwks-url URL | --public-key FILE) [options]`: runs the
 * reference key keeper. See README.md.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { createKeyKeeperServer } from "./server";
import { KeyKeeperUser, loadUsers } from "./users";
import { createTokenVerifier, DCM_ISSUER, FileReplayStore, Verify } from "./verifier";

const USAGE = `Usage: npm run key-keeper -- --audience ALIAS --url URL --replay-dir DIR (--jwks-url URL | --public-key FILE) [options]

Serves GET <base-path>/key to DCM's Processing Center: the registered users' secrets, only for a JWT
signed by DCM's key (typ JWT, no jku, x5u, jwk or x5c header) with iss, aud = ALIAS, exp at most
5 minutes after iat, nbf, htm GET, htu = --url (a token DCM made for another URL is refused), and a
jti never seen before by any replica.

  --audience ALIAS        the bank alias (required)
  --url URL               this key keeper's GET /key URL as DCM calls it: the keyKeeperUrl the bank
                          gave DCM followed by /key (required; the htu every token must name)
  --replay-dir DIR        where accepted jti are kept until they expire (required): a directory on a
                          volume every replica mounts (ReadWriteMany) and that survives restarts, so a
                          token is accepted once across replicas and restarts
  --jwks-url URL          DCM's JWKS (the stack output jwksUrl)
  --jwks-ca FILE          trust this CA when fetching the JWKS (self-signed environments)
  --public-key FILE       DCM's public key (SPKI PEM, the stack output publicKeyPem) instead of the JWKS
  --algorithms LIST       accepted algorithms, comma-separated (default ES256)
  --issuer ISS            required iss (default ${DCM_ISSUER})
  --users FILE            the users' secrets (JSON); default the KEY_KEEPER_USERS variable
  --base-path PATH        path prefix, e.g. /api (default none)
  --tls-cert FILE --tls-key FILE   serve HTTPS (default plain HTTP, behind a TLS proxy)
  --host ADDR --port N    listen address (default 127.0.0.1:8443; port 0: any free one)
  -h, --help

Exit codes: 0 stopped by SIGINT or SIGTERM (or --help printed); 1 it could not listen (the port is taken,
the address is not this machine's); 2 bad usage or invalid input (a missing option, a file that cannot be
read, malformed users, a key or algorithm the verifier refuses), every problem at once.

Guide: docs/banks.md#the-reference-implementation (the contract: reference/key-keeper/README.md)`;

type Writer = { write(text: string): unknown };

/** Runs until SIGINT/SIGTERM; returns the exit code (see USAGE: 0 stopped, 1 could not listen, 2 bad usage or input). */
export async function main(argv: string[], stderr: Writer = process.stderr, stdout: Writer = process.stdout): Promise<number> {
    let v;
    try {
        v = parseArgs({
            args: argv, options: {
                audience: { type: "string" }, url: { type: "string" }, "replay-dir": { type: "string" }, "jwks-url": { type: "string" }, "jwks-ca": { type: "string" }, "public-key": { type: "string" },
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
        stdout.write(`${USAGE}\n`);
        return 0;
    }
    const problems = [
        !v.audience && "--audience is required",
        !v.url && "--url is required (this key keeper's GET /key URL, e.g. https://keykeeper.bank.example/api/key)",
        !v["replay-dir"] && "--replay-dir is required (a directory every replica shares and that survives restarts)",
        !v["jwks-url"] === !v["public-key"] && "give exactly one of --jwks-url and --public-key",
        !v["tls-cert"] !== !v["tls-key"] && "--tls-cert and --tls-key go together",
        v.port !== undefined && !/^\d{1,5}$/.test(v.port) && "--port must be a number",
    ].filter((p): p is string => Boolean(p));
    if (problems.length) {
        stderr.write(`${problems.join("\n")}\n\n${USAGE}\n`);
        return 2;
    }
    /** A file option's text; an unreadable file is a problem naming the option. */
    const read = (flag: string, file: string | undefined): string | undefined => {
        if (file === undefined) return undefined;
        try {
            return fs.readFileSync(file, "utf8");
        } catch (e) {
            problems.push(`${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
            return undefined;
        }
    };
    const jwksCa = read("--jwks-ca", v["jwks-ca"]);
    const publicKeyPem = read("--public-key", v["public-key"]);
    const tlsCert = read("--tls-cert", v["tls-cert"]);
    const tlsKey = read("--tls-key", v["tls-key"]);
    let users: KeyKeeperUser[] = [];
    try {
        users = loadUsers(v.users);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        problems.push(`--users: ${code ? `cannot read ${v.users} (${code})` : (e as Error).message}`);
    }
    let verify: Verify | undefined;
    if (!problems.length) {
        try {
            verify = await createTokenVerifier({
                audience: v.audience!,
                url: v.url!,
                replayStore: new FileReplayStore(v["replay-dir"]!),
                issuer: v.issuer,
                algorithms: v.algorithms?.split(",").map((a) => a.trim()),
                jwksUrl: v["jwks-url"],
                jwksCa: jwksCa ? [jwksCa] : undefined,
                publicKeyPem,
            });
        } catch (e) {
            // The verifier's own refusals name the option ("key keeper: algorithms must not include HS256"); else
            // the PEM did not import as a key of the first algorithm.
            const why = (e as Error).message.split("\n")[0];
            problems.push(why.startsWith("key keeper:") ? why : `--public-key: ${v["public-key"]} is not an SPKI public key for ${v.algorithms?.split(",")[0].trim() ?? "ES256"} (${why})`);
        }
    }
    if (problems.length) {
        stderr.write(`${problems.join("\n")}\n`);
        return 2;
    }
    const server = createKeyKeeperServer({
        verify: verify!, users, basePath: v["base-path"],
        tls: tlsCert ? { cert: tlsCert, key: tlsKey! } : undefined,
        log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    const host = v.host ?? "127.0.0.1";
    try {
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(Number(v.port ?? 8443), host, () => resolve());
        });
    } catch (e) {
        stderr.write(`key keeper: cannot listen on ${host}:${v.port ?? 8443} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n`);
        return 1;
    }
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : v.port;
    // Listening for the signals before saying it serves: a supervisor may stop it as soon as it reads the line.
    const stopped = new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
    });
    stderr.write(`key keeper: ${users.length} users, GET ${tlsCert ? "https" : "http"}://${host}:${port}${v["base-path"] ?? ""}/key (aud ${v.audience})\n`);
    await stopped;
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
