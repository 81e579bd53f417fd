/**
 * The platform settings' defaults have one home: Pulumi.yaml's `config:` section, which the Pulumi CLI reads.
 * Everything else that needs a default (the offline render's config loader, the policy pack's config schema)
 * reads it from there through this file instead of copying it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { PROJECT_ROOT } from "./project";

/** The repository's Pulumi.yaml, the home of the platform defaults. */
export const PROJECT_FILE = path.join(PROJECT_ROOT, "Pulumi.yaml");

/** A Pulumi.yaml's config values: the project's own defaults (keyed without namespace) and other namespaces' values (keyed with it). */
export interface ProjectConfigValues {
    /** Project-level config defaults, keyed without namespace. */
    defaults: Record<string, unknown>;
    /** Project-level values of other namespaces (the providers', e.g. `kubernetes:enableSecretMutable`), keyed with it. */
    providerConfig: Record<string, unknown>;
}

/** Splits a parsed Pulumi.yaml's `config:` into the project's defaults and the providers' values. */
export function projectConfigValues(doc: { name?: string; config?: Record<string, unknown> }): ProjectConfigValues {
    const defaults: Record<string, unknown> = {};
    const providerConfig: Record<string, unknown> = {};
    for (const [key, decl] of Object.entries(doc.config ?? {})) {
        const own = !key.includes(":") || key.startsWith(`${doc.name}:`);
        const short = key.startsWith(`${doc.name}:`) ? key.slice(String(doc.name).length + 1) : key;
        // A declaration ({type, default, ...}) or, in the short form, the value itself.
        const isDeclaration = decl !== null && typeof decl === "object" && !Array.isArray(decl) && ("type" in decl || "default" in decl || "value" in decl);
        const value = isDeclaration ? ((decl as { value?: unknown }).value ?? (decl as { default?: unknown }).default) : decl;
        if (value !== undefined) (own ? defaults : providerConfig)[own ? short : key] = value;
    }
    return { defaults, providerConfig };
}

let cached: Readonly<Record<string, unknown>> | undefined;
/** The platform defaults of this repository's Pulumi.yaml (read once). */
export function platformDefaults(): Readonly<Record<string, unknown>> {
    cached ??= Object.freeze(projectConfigValues(YAML.parse(fs.readFileSync(PROJECT_FILE, "utf8")) as { name?: string; config?: Record<string, unknown> }).defaults);
    return cached;
}
