/**
 * Real Ory Kratos (the binary `npm run real:setup` builds, the version the stack deploys) run from the
 * stack's own render: its kratos.yml, identity schema, Secret-filled environment and container args, the
 * migration command first. Only the network differs from the pod: both ports on 127.0.0.1, and the
 * database DSN of the test's own database when one is given.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import * as YAML from "yaml";
import { realCacheDir, realComponent } from "../../real/components";
import { KRATOS_PREVIOUS_VERSION, KRATOS_VERSION } from "../../real/recipes";
import { binaryPath } from "../../real/setup";
import type { RecordedResource } from "../../scripts/lib/engine/offline-run";
import { unwrapSecrets } from "../../domain/secret-values";
import { render } from "../render";
import { containers, emulatePod, EmulatedPod, renderedObject } from "./pod";
import type { Netns } from "./netns";
import { freePort, run, Running, start, waitUntil } from "./process";

/** The components the Kratos tests need; they skip, naming them, when one is not built. */
export const KRATOS_COMPONENTS = ["kratos"] as const;
/** The release banks ran before (v1.3.1), built for the upgrade-in-place test only. */
export const PREVIOUS_KRATOS_COMPONENT = "kratos-previous";

/**
 * The binary of `kratos` (KRATOS_VERSION) or `kratos-previous` (KRATOS_PREVIOUS_VERSION) at exactly that version.
 * The cache is shared: a checkout of another version may have recorded its own `kratos` in components.json since,
 * so the cache directory of the wanted version is used when the index names another.
 */
export function kratosBinary(component: "kratos" | typeof PREVIOUS_KRATOS_COMPONENT = "kratos"): string {
    const want = component === "kratos" ? KRATOS_VERSION : KRATOS_PREVIOUS_VERSION;
    const entry = realComponent(component);
    if (entry?.version === want) return entry.path;
    const cached = binaryPath(realCacheDir(), component, want);
    if (fs.existsSync(cached)) return cached;
    throw new Error(`${component} ${want} is not built (components.json has ${entry?.version ?? "none"}): run \`npm run real:setup -- --only ${component}\``);
}

export interface RenderedStack {
    stack: string;
    resources: RecordedResource[];
    /** Stack outputs as `pulumi stack output --json --show-secrets` prints them. */
    outputs: Record<string, unknown>;
    /** kratos.yml as rendered, parsed. */
    kratosConfig: Record<string, any>;
    backofficeHost: string;
    /** serve.admin.base_url: the in-cluster admin URL. */
    adminBaseUrl: string;
}

/** Renders a stack offline (dev mode: `demo`; PostgreSQL: `dnipro`, its secrets as the render's placeholders). */
export async function renderStack(stack: string, overrides: Record<string, unknown> = {}): Promise<RenderedStack> {
    const r = await render({ stack, overrides });
    const config = renderedObject(r.resources, "ConfigMap", "kratos-config");
    const kratosConfig = YAML.parse(config.data["kratos.yml"]);
    return {
        stack,
        resources: r.resources,
        outputs: unwrapSecrets(r.outputs) as Record<string, unknown>,
        kratosConfig,
        backofficeHost: new URL(kratosConfig.serve.public.base_url).host,
        adminBaseUrl: kratosConfig.serve.admin.base_url,
    };
}

/** Where the rendered stack runs Kratos' migrations: an init container of the server, or a Job of its own. */
function migrationWorkload(stack: RenderedStack): { kind: "Deployment" | "Job"; name: string; container: string } {
    const isMigration = (c: any) => Array.isArray(c.args) && c.args[0] === "migrate" && c.args[1] === "sql" && c.args[2] === "up";
    const server = containers(stack.resources, "Deployment", "kratos").find(isMigration);
    if (server) return { kind: "Deployment", name: "kratos", container: server.name };
    for (const job of stack.resources.filter((x) => x.custom && x.type.endsWith(":Job"))) {
        const name = (unwrapSecrets(job.inputs) as any).metadata?.name as string;
        const c = containers(stack.resources, "Job", name).find(isMigration);
        if (c) return { kind: "Job", name, container: c.name };
    }
    throw new Error("the render runs no `kratos migrate sql up` (neither an init container of Deployment kratos nor a Job)");
}

export interface KratosOptions {
    /** The test database's DSN in place of the rendered one (PostgreSQL mode). */
    dsn?: string;
    /** Extra environment, e.g. a broken value to see Kratos refuse it. */
    env?: Record<string, string>;
    /** Edits the rendered kratos.yml before Kratos reads it. */
    editConfig?: (config: Record<string, any>) => void;
    /** Which Kratos: `kratos` (the release the stack deploys, the default) or `kratos-previous`. */
    binary?: "kratos" | typeof PREVIOUS_KRATOS_COMPONENT;
    /** Rewrites the rendered migration command's arguments (a previous release's command line). */
    migrateArgs?: (rendered: readonly string[]) => string[];
    /** Rendered environment variables left out (a setting a previous release does not know). */
    dropEnv?: string[];
    /** Serve in this network namespace, on its address (the data-plane test's pod network), instead of 127.0.0.1. */
    netns?: Netns;
}

export interface RunningKratos {
    publicUrl: string;
    adminUrl: string;
    publicPort: number;
    adminPort: number;
    /** Output of the migration command and the server so far. */
    output(): string;
    stop(): Promise<void>;
}

const get = (url: string) => new Promise<number>((resolve, reject) => {
    http.get(url, { timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
    }).on("error", reject).on("timeout", function (this: http.ClientRequest) { this.destroy(new Error("timeout")); });
});

function prepare(stack: RenderedStack, options: KratosOptions): { pod: EmulatedPod; migration: EmulatedPod; env: (e: Record<string, string>) => Record<string, string> } {
    const pod = emulatePod(stack.resources, "Deployment", "kratos");
    const where = migrationWorkload(stack);
    const migration = where.kind === "Deployment" ? pod : emulatePod(stack.resources, where.kind, where.name);
    if (options.editConfig) {
        for (const p of new Set([pod, migration])) {
            const dir = Object.entries(p.mounts).find(([m]) => m === path.posix.dirname(configFileArg(stack)))?.[1];
            if (!dir) throw new Error("kratos.yml is not mounted where the server reads it");
            const file = path.join(dir, "kratos.yml");
            const config = YAML.parse(fs.readFileSync(file, "utf8"));
            options.editConfig(config);
            fs.writeFileSync(file, YAML.stringify(config, { lineWidth: 0 }));
        }
    }
    const env = (rendered: Record<string, string>) => {
        const merged: Record<string, string> = {
            PATH: process.env.PATH ?? "",
            HOME: process.env.HOME ?? "/tmp",
            // No usage report to Ory from a test (in the cluster the NetworkPolicies give Kratos no internet either).
            SQA_OPT_OUT: "true",
            ...rendered,
            ...(options.dsn ? { DSN: options.dsn } : {}),
            ...options.env,
        };
        for (const name of options.dropEnv ?? []) delete merged[name];
        // A production stack's secrets are the offline render's stand-ins: the test must give each a value.
        const standIns = Object.keys(merged).filter((k) => merged[k].startsWith("offline-placeholder-for-"));
        if (standIns.length) throw new Error(`the render's stand-in for a secret would reach Kratos in ${standIns.join(", ")}: give the test a value (options.dsn / options.env)`);
        return merged;
    };
    return { pod, migration, env };
}

/** The --config argument of the server container, as rendered (a path in the pod). */
function configFileArg(stack: RenderedStack): string {
    const args: string[] = containers(stack.resources, "Deployment", "kratos").find((c) => c.name === "kratos")?.args ?? [];
    const i = args.indexOf("--config");
    if (i < 0) throw new Error("the Kratos server container has no --config");
    return args[i + 1];
}

/** Runs the rendered migration command, then the rendered server, and waits for /admin/health/ready. */
export async function startKratos(stack: RenderedStack, options: KratosOptions = {}): Promise<RunningKratos> {
    const binary = kratosBinary(options.binary);
    const { pod, migration, env } = prepare(stack, options);
    const where = migrationWorkload(stack);
    const migrate = migration.container(where.container);
    let log = "";
    let server: Running | undefined;
    try {
        log += await run(binary, options.migrateArgs ? options.migrateArgs(migrate.args) : migrate.args, { env: env(migrate.env) }, 180_000);
        const serve = pod.container("kratos");
        for (let attempt = 1; ; attempt++) {
            const [publicPort, adminPort] = [await freePort(), await freePort()];
            const host = options.netns?.address ?? "127.0.0.1";
            const [command, args] = options.netns ? options.netns.wrap(binary, serve.args) : [binary, serve.args];
            server = start(command, args, {
                env: {
                    ...env(serve.env),
                    SERVE_PUBLIC_HOST: host, SERVE_PUBLIC_PORT: String(publicPort),
                    SERVE_ADMIN_HOST: host, SERVE_ADMIN_PORT: String(adminPort),
                },
            });
            const proc = server;
            try {
                await waitUntil("Kratos", async () => (await get(`http://${host}:${adminPort}/admin/health/ready`)) === 200, proc, 60_000);
            } catch (e) {
                await proc.stop();
                if (attempt < 3 && /address already in use/i.test(proc.output())) continue;
                throw e;
            }
            return {
                publicUrl: `http://${host}:${publicPort}`,
                adminUrl: `http://${host}:${adminPort}`,
                publicPort,
                adminPort,
                output: () => log + proc.output(),
                async stop() {
                    await proc.stop();
                    pod.cleanup();
                    migration.cleanup();
                },
            };
        }
    } catch (e) {
        await server?.stop();
        pod.cleanup();
        migration.cleanup();
        throw e;
    }
}

/**
 * Runs Kratos' own config check the way the pod starts (the rendered server command, with `options`'
 * breakage) and returns its exit code and output: Kratos validates the whole configuration at start.
 */
export async function kratosRefusal(stack: RenderedStack, options: KratosOptions): Promise<{ code: number | null; output: string }> {
    const { pod, migration, env } = prepare(stack, options);
    try {
        const serve = pod.container("kratos");
        const [publicPort, adminPort] = [await freePort(), await freePort()];
        const proc = start(kratosBinary(), serve.args, {
            env: { ...env(serve.env), SERVE_PUBLIC_HOST: "127.0.0.1", SERVE_PUBLIC_PORT: String(publicPort), SERVE_ADMIN_HOST: "127.0.0.1", SERVE_ADMIN_PORT: String(adminPort) },
        });
        const timer = setTimeout(() => void proc.stop(), 30_000);
        const code = await proc.exited;
        clearTimeout(timer);
        return { code, output: proc.output() };
    } finally {
        pod.cleanup();
        migration.cleanup();
    }
}
