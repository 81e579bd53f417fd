/**
 * The project's and a stack's configuration as the Pulumi CLI assembles it: Pulumi.yaml's project-level
 * defaults, overlaid by `<stackConfigDir>/Pulumi.<stack>.yaml`, every key namespaced by the project name.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

export interface ProjectFile {
    /** Project name, the config namespace. */
    name: string;
    /** Absolute directory of Pulumi.yaml. */
    dir: string;
    /** Absolute program directory (`main`). */
    programDir: string;
    /** Absolute stack config directory (`stackConfigDir`). */
    stackConfigDir: string;
    /** Project-level config defaults, keyed without namespace. */
    defaults: Record<string, unknown>;
}

export interface StackConfig {
    project: ProjectFile;
    stack: string;
    /** Config as PULUMI_CONFIG carries it: namespaced keys, string values (JSON for structured ones). */
    config: Record<string, string>;
    /** Namespaced keys whose value is secret. */
    secretKeys: string[];
    /** Secret keys whose encrypted value cannot be read offline and got a placeholder. */
    placeholders: string[];
}

export function readProject(dir: string): ProjectFile {
    const file = path.join(dir, "Pulumi.yaml");
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as Record<string, any>;
    const defaults: Record<string, unknown> = {};
    for (const [key, decl] of Object.entries((doc.config ?? {}) as Record<string, any>)) {
        const short = key.startsWith(`${doc.name}:`) ? key.slice(doc.name.length + 1) : key;
        // A declaration ({type, default, ...}) or, in the short form, the value itself.
        const isDeclaration = decl !== null && typeof decl === "object" && !Array.isArray(decl) && ("type" in decl || "default" in decl || "value" in decl);
        const value = isDeclaration ? (decl.value ?? decl.default) : decl;
        if (value !== undefined) defaults[short] = value;
    }
    return {
        name: doc.name,
        dir,
        programDir: path.resolve(dir, doc.main ?? "."),
        stackConfigDir: path.resolve(dir, doc.stackConfigDir ?? "."),
        defaults,
    };
}

/** Every stack that has a config file, sorted. */
export function listStacks(project: ProjectFile): string[] {
    return fs.readdirSync(project.stackConfigDir)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => Boolean(s))
        .sort();
}

export function stackFilePath(project: ProjectFile, stack: string): string {
    return path.join(project.stackConfigDir, `Pulumi.${stack}.yaml`);
}

/**
 * Assembles a stack's config.
 * @param overrides values (keyed without namespace) laid over the file, as `pulumi config set` would; for tests
 * @param stackFile a stack file other than `<stackConfigDir>/Pulumi.<stack>.yaml`
 */
export function loadStackConfig(project: ProjectFile, stack: string, overrides: Record<string, unknown> = {}, stackFile?: string): StackConfig {
    const file = stackFile ?? stackFilePath(project, stack);
    if (!fs.existsSync(file)) {
        throw new Error(`stack '${stack}' has no config file: ${path.relative(process.cwd(), file)} does not exist`);
    }
    const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const ns = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(project.defaults)) merged[ns(k)] = v;
    for (const [k, v] of Object.entries(doc.config ?? {})) merged[ns(k)] = v;
    for (const [k, v] of Object.entries(overrides)) merged[ns(k)] = v;

    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const placeholders: string[] = [];
    for (const [key, value] of Object.entries(merged)) {
        if (value === undefined || value === null) continue;
        const { plain, secret, placeholder } = decodeValue(value, key);
        config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secret) secretKeys.push(key);
        if (placeholder) placeholders.push(key);
    }
    return { project, stack, config, secretKeys, placeholders };
}

/** A config value without its `secure:` envelopes; encrypted values become a placeholder offline. */
function decodeValue(value: unknown, key: string): { plain: unknown; secret: boolean; placeholder: boolean } {
    if (value === null || typeof value !== "object") return { plain: value, secret: false, placeholder: false };
    const o = value as Record<string, unknown>;
    if (!Array.isArray(value) && Object.keys(o).length === 1 && "secure" in o) {
        return { plain: `offline-placeholder-for-${key.split(":").pop()}`, secret: true, placeholder: true };
    }
    const parts = Object.entries(o).map(([k, v]) => [k, decodeValue(v, key)] as const);
    const plainParts = parts.map(([k, d]) => [k, d.plain] as const);
    return {
        plain: Array.isArray(value) ? plainParts.map(([, p]) => p) : Object.fromEntries(plainParts),
        secret: parts.some(([, d]) => d.secret),
        placeholder: parts.some(([, d]) => d.placeholder),
    };
}
