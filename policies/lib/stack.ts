/** What policies know about the stack they run in: its name from URNs, its settings from policy config. */

/** The stack name inside a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string {
    const m = /^urn:pulumi:([^:]+)::/.exec(urn);
    if (!m) throw new Error(`not a Pulumi URN: ${urn}`);
    return m[1];
}

/** Stack names are bank aliases (stacks/Pulumi.<alias>.yaml); an org-qualified name keeps only the last part. */
export function aliasOfUrn(urn: string): string {
    return stackOfUrn(urn).split("/").pop()!;
}

/** Platform settings the host-name rules need; defaults are Pulumi.yaml's project defaults. */
export interface PlatformConfig {
    /** DNS zone of every bank host. */
    baseDomain: string;
    /** Environment suffix of host names (used when an object has no `dcm/environment` label). */
    environment: string;
}

export const PLATFORM_CONFIG_SCHEMA = {
    properties: {
        baseDomain: { type: "string" as const, default: "dcm.example.com", description: "DNS zone of every bank host (Pulumi.yaml baseDomain)." },
        environment: { type: "string" as const, default: "integrate", description: "Environment suffix of host names (Pulumi.yaml environment)." },
    },
};

/** Config with schema defaults under it: the CLI passes only what a `--policy-pack-config` file sets. */
export function withDefaults<T extends object>(schema: { properties: Record<string, { default?: unknown }> }, configured: object): T {
    const defaults = Object.fromEntries(Object.entries(schema.properties).filter(([, s]) => s.default !== undefined).map(([k, s]) => [k, s.default]));
    return { ...defaults, ...configured } as T;
}

/** Escapes text for a RegExp. */
export function reEscape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
