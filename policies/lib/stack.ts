/** What policies know about the stack they run in: its name from URNs, its settings from policy config. */
import type { PlatformConfig } from "../../domain/config";
import { platformDefaults } from "../../domain/platform-defaults";

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

/**
 * Platform settings the host-name rules need: baseDomain, and environment (used when an object has no
 * `dcm/environment` label). The domain's type; the defaults are Pulumi.yaml's, read from there.
 */
export type PackPlatformConfig = Pick<PlatformConfig, "baseDomain" | "environment">;

export const PLATFORM_CONFIG_SCHEMA = {
    properties: {
        baseDomain: { type: "string" as const, default: String(platformDefaults().baseDomain), description: "DNS zone of every bank host (Pulumi.yaml baseDomain)." },
        environment: { type: "string" as const, default: String(platformDefaults().environment), description: "Environment suffix of host names (Pulumi.yaml environment)." },
    },
};

/** Config with schema defaults under it: the CLI passes only what a `--policy-pack-config` file sets. */
export function withDefaults<T extends object>(schema: { properties: Record<string, { default?: unknown }> }, configured: object): T {
    const defaults = Object.fromEntries(Object.entries(schema.properties).filter(([, s]) => s.default !== undefined).map(([k, s]) => [k, s.default]));
    return { ...defaults, ...configured } as T;
}
