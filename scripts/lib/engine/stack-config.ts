/**
 * The project's and a stack's configuration as the Pulumi CLI assembles it: Pulumi.yaml's project-level
 * defaults, overlaid by `<stackConfigDir>/Pulumi.<stack>.yaml`, every key namespaced by the project name.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { ConfigProblem, formatProblems } from "../../../domain/config";
import { projectConfigValues } from "../../../domain/platform-defaults";

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
    /** Project-level values of other namespaces (the providers', e.g. `kubernetes:enableSecretMutable`), keyed with it. */
    providerConfig: Record<string, unknown>;
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
    const { defaults, providerConfig } = projectConfigValues(doc);
    return {
        name: doc.name,
        dir,
        programDir: path.resolve(dir, doc.main ?? "."),
        stackConfigDir: path.resolve(dir, doc.stackConfigDir ?? "."),
        defaults,
        providerConfig,
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
    const copies = copiedSecrets(project, stack, file, doc.config ?? {});
    if (copies.length > 0) throw new Error(formatProblems(copies, project.name, stack));
    const ns = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...project.providerConfig, ...project.defaults })) merged[ns(k)] = v;
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

/** Every `secure:` ciphertext of a stack file's config, with the key (and path inside it) that holds it. */
function secureValues(config: Record<string, unknown>): { key: string; ciphertext: string }[] {
    const found: { key: string; ciphertext: string }[] = [];
    const walk = (value: unknown, key: string): void => {
        if (value === null || typeof value !== "object") return;
        const o = value as Record<string, unknown>;
        if (!Array.isArray(value) && Object.keys(o).length === 1 && typeof o.secure === "string") found.push({ key, ciphertext: o.secure });
        else for (const [k, v] of Object.entries(o)) walk(v, Array.isArray(value) ? `${key}[${k}]` : `${key}.${k}`);
    };
    for (const [key, value] of Object.entries(config)) walk(value, key);
    return found;
}

/**
 * The stack file's `secure:` values that are identical to one in another stack's file: a copy. A ciphertext
 * decrypts only under the key of the stack it was set for (the passphrase provider's salt is per stack file),
 * so a copied one cannot decrypt here, and it means another bank's secret was pasted in. One problem per key,
 * naming both files; keys of other namespaces are the providers' and left to the CLI.
 */
function copiedSecrets(project: ProjectFile, stack: string, file: string, config: Record<string, unknown>): ConfigProblem[] {
    const prefix = `${project.name}:`;
    const own = secureValues(config).filter((s) => s.key.startsWith(prefix) || !s.key.split(/[.[]/)[0].includes(":"));
    if (own.length === 0 || !fs.existsSync(project.stackConfigDir)) return [];
    const shown = (f: string) => path.relative(project.dir, f);
    const elsewhere = new Map<string, { key: string; file: string }>();
    for (const other of listStacks(project)) {
        const otherFile = stackFilePath(project, other);
        if (other === stack || path.resolve(otherFile) === path.resolve(file) || !fs.existsSync(otherFile)) continue;
        let otherDoc: { config?: Record<string, unknown> };
        try {
            otherDoc = (YAML.parse(fs.readFileSync(otherFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
        } catch {
            continue; // Another bank's broken file is that bank's error (its own load reports it), not this one's.
        }
        for (const s of secureValues(otherDoc?.config ?? {})) if (!elsewhere.has(s.ciphertext)) elsewhere.set(s.ciphertext, { key: s.key, file: otherFile });
    }
    const problems: ConfigProblem[] = [];
    for (const s of own) {
        const from = elsewhere.get(s.ciphertext);
        if (!from) continue;
        const key = s.key.startsWith(prefix) ? s.key.slice(prefix.length) : s.key;
        const root = key.split(/[.[]/)[0];
        problems.push({
            key,
            message: `in ${shown(file)} is the same secure: ciphertext as ${from.key} in ${shown(from.file)}: a copy of another stack's secret, which cannot decrypt under the key of stack '${stack}' (the passphrase provider's salt is per stack file); set this bank's own value: pulumi config set --secret${root === key ? "" : " --path"} -s ${stack} ${root === key ? key : `'${key}'`} <value>`,
        });
    }
    return problems;
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
