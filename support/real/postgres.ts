/**
 * A throwaway PostgreSQL (Debian's, from `postgres-bin`) for Kratos: initdb in a temp directory, the server
 * on a loopback port only (no Unix socket outside the temp directory), a `kratos` role with a password and
 * its own database, removed on stop. PostgreSQL refuses to run as root: when the tests run as root, the
 * cluster belongs to the Debian package's `postgres` user.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { realBinary } from "../../real/components";
import { freePort, run, Running, start, waitUntil } from "./process";

export interface Postgres {
    /** `postgres://kratos:<pw>@127.0.0.1:<port>/kratos?sslmode=disable` (loopback: no TLS to verify). */
    dsn: string;
    port: number;
    stop(): Promise<void>;
}

/** uid/gid to run PostgreSQL as: ourselves, or `postgres` when we are root. */
function owner(): { uid: number; gid: number } | undefined {
    if (process.getuid?.() !== 0) return undefined;
    const line = fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
    if (!line) throw new Error("running as root and no `postgres` user to run PostgreSQL as (install Debian's postgresql: `npm run real:setup`)");
    const [, , uid, gid] = line.split(":");
    return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgres(): Promise<Postgres> {
    const bin = realBinary("postgres-bin");
    const user = owner();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-pg-"));
    const data = path.join(dir, "data");
    const password = crypto.randomBytes(18).toString("base64url");
    const pwfile = path.join(dir, "pw");
    fs.writeFileSync(pwfile, password, { mode: 0o600 });
    if (user) {
        fs.chownSync(dir, user.uid, user.gid);
        fs.chownSync(pwfile, user.uid, user.gid);
    }
    const as = user ? { uid: user.uid, gid: user.gid } : {};
    const env = { PATH: process.env.PATH ?? "", LANG: "C", LC_ALL: "C" };
    let server: Running | undefined;
    try {
        await run(path.join(bin, "initdb"), ["-D", data, "-U", "kratos", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8", "--no-sync"], { ...as, env });
        let port = 0;
        for (let attempt = 1; ; attempt++) {
            port = await freePort();
            server = start(path.join(bin, "postgres"), [
                "-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`, "-c", "fsync=off",
            ], { ...as, env });
            const up = server;
            try {
                await waitUntil("PostgreSQL", async () => {
                    await run(path.join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)], { env }, 5000);
                    return true;
                }, up, 30_000);
                break;
            } catch (e) {
                await up.stop();
                if (attempt >= 3 || !/could not bind|Address already in use/.test(up.output())) throw e;
            }
        }
        await run(path.join(bin, "createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "kratos", "kratos"], { env: { ...env, PGPASSWORD: password } });
        const running = server!;
        return {
            dsn: `postgres://kratos:${password}@127.0.0.1:${port}/kratos?sslmode=disable`,
            port,
            async stop() {
                await running.stop();
                fs.rmSync(dir, { recursive: true, force: true });
            },
        };
    } catch (e) {
        await server?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
    }
}
