/** Mandatory: DNS, certificates and the bank's integration all expect exactly backoffice|api-<alias>-<env>.<base domain>. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { INGRESS_TYPES, ruleHosts, tlsEntries } from "./lib/ingress";
import { labelsOf } from "./lib/kubernetes";
import { deriveNames } from "../domain/names";
import { aliasOfUrn, PackPlatformConfig, PLATFORM_CONFIG_SCHEMA, withDefaults } from "./lib/stack";

/**
 * The host naming rule for a resource's stack, shared by ingress-host-names and gateway-host-names: the alias from
 * the URN, the environment (the object's own label wins) and the base domain (pack config).
 */
export function hostNameRule(args: { urn: string; props: Record<string, any>; getConfig: <T extends object>() => T }): { alias: string; allowed: (host: string) => boolean; expected: string } {
    const config = withDefaults<PackPlatformConfig>(PLATFORM_CONFIG_SCHEMA, args.getConfig());
    const alias = aliasOfUrn(args.urn);
    // The object's own environment label wins: a stack may override the environment, the pack config is the fallback.
    const env = labelsOf(args.props)["dcm/environment"] ?? config.environment;
    // The names the program gives this bank (the domain's one derivation; the asset code plays no part in hosts).
    const { hosts: names } = deriveNames({ alias, assetCode: "" }, { environment: env, baseDomain: config.baseDomain });
    return { alias, allowed: (host) => host === names.backoffice || host === names.api, expected: `${names.backoffice} or ${names.api}` };
}

export const ingressHostNames: ResourceValidationPolicy = {
    name: "ingress-host-names",
    description: "Every Ingress host is backoffice-<alias>-<env>.<baseDomain> or api-<alias>-<env>.<baseDomain> for this stack's alias.",
    enforcementLevel: "mandatory",
    configSchema: PLATFORM_CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        if (!INGRESS_TYPES.includes(args.type)) return;
        const { alias, allowed, expected } = hostNameRule(args);
        const hosts = new Set<string>();
        ruleHosts(args.props).forEach((h) => { if (h) hosts.add(h); });
        tlsEntries(args.props).forEach((t) => (Array.isArray(t.hosts) ? t.hosts : []).forEach((h: unknown) => { if (typeof h === "string") hosts.add(h); }));
        for (const host of hosts) {
            if (!allowed(host)) reportViolation(`Host "${host}" does not follow the naming rule for stack "${alias}": expected ${expected}.`);
        }
    },
};
