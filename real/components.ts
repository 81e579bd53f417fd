/**
 * Where `npm run real:setup` put the real components (Kratos, kube-apiserver, etcd, kubectl, the Pulumi CLI and
 * its plugins, PostgreSQL, nginx): a cache outside the repository, indexed by components.json. Nothing built is
 * committed; tests look their binaries up here.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** One built or installed component, as components.json records it. */
export interface ComponentEntry {
    /** The version built or installed (for Debian packages, the package's version). */
    version: string;
    /** Absolute path of the binary (or, for postgres-bin, of the directory holding initdb/postgres/pg_ctl). */
    path: string;
}

export type ComponentIndex = Record<string, ComponentEntry>;

/** `${DCM_REAL_CACHE:-$HOME/.cache/dcm-integration}`. */
export function realCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    return path.resolve(env.DCM_REAL_CACHE || path.join(os.homedir(), ".cache", "dcm-integration"));
}

export function componentsFile(env: NodeJS.ProcessEnv = process.env): string {
    return path.join(realCacheDir(env), "components.json");
}

/** The index written by real:setup, or an empty one when real:setup never ran (or wrote something unreadable). */
export function readComponents(env: NodeJS.ProcessEnv = process.env): ComponentIndex {
    let text: string;
    try {
        text = fs.readFileSync(componentsFile(env), "utf8");
    } catch {
        return {};
    }
    try {
        const parsed = JSON.parse(text) as unknown;
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
        const index: ComponentIndex = {};
        for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
            const e = entry as Partial<ComponentEntry> | null;
            if (e && typeof e.version === "string" && typeof e.path === "string") index[name] = { version: e.version, path: e.path };
        }
        return index;
    } catch {
        return {};
    }
}

/** The component's entry if it is recorded and its path still exists. */
export function realComponent(name: string, env: NodeJS.ProcessEnv = process.env): ComponentEntry | undefined {
    const entry = readComponents(env)[name];
    return entry && fs.existsSync(entry.path) ? entry : undefined;
}

/** Absolute path of a real component's binary (directory for postgres-bin); throws when it was not built. */
export function realBinary(name: string, env: NodeJS.ProcessEnv = process.env): string {
    const entry = realComponent(name, env);
    if (!entry) throw new Error(`${name} not built: run \`npm run real:setup\` (cache ${realCacheDir(env)})`);
    return entry.path;
}

/** True when every named component is recorded and present: tests skip with a reason otherwise. */
export function realComponentsAvailable(names: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
    return names.every((n) => realComponent(n, env) !== undefined);
}

/** For a test's skip message: which of the named components are missing. */
export function missingComponents(names: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
    return names.filter((n) => realComponent(n, env) === undefined);
}
