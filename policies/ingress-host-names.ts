/** Mandatory: DNS, certificates and the bank's integration all expect exactly backoffice|api-<alias>-<env>.<base domain>. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { INGRESS_TYPES, ruleHosts, tlsEntries } from "./lib/ingress";
import { labelsOf } from "./lib/kubernetes";
import { aliasOfUrn, PLATFORM_CONFIG_SCHEMA, PlatformConfig, reEscape, withDefaults } from "./lib/stack";

/** The host naming rule for the resource's stack: its alias, the environment (the object's label wins) and base domain. */
export function hostNameRule(args: { urn: string; props: Record<string, any>; getConfig: <T extends object>() => T }): { alias: string; pattern: RegExp; expected: string } {
    const config = withDefaults<PlatformConfig>(PLATFORM_CONFIG_SCHEMA, args.getConfig());
    const alias = aliasOfUrn(args.urn);
    // The object's own environment label wins: a stack may override the environment, the pack config is the fallback.
    const env = labelsOf(args.props)["dcm/environment"] ?? config.environment;
    return {
        alias,
        pattern: new RegExp(`^(backoffice|api)-${reEscape(alias)}-${reEscape(env)}\\.${reEscape(config.baseDomain)}$`),
        expected: `backoffice-${alias}-${env}.${config.baseDomain} or api-${alias}-${env}.${config.baseDomain}`,
    };
}

export const ingressHostNames: ResourceValidationPolicy = {
    name: "ingress-host-names",
    description: "Every Ingress host is backoffice-<alias>-<env>.<baseDomain> or api-<alias>-<env>.<baseDomain> for this stack's alias.",
    enforcementLevel: "mandatory",
    configSchema: PLATFORM_CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        if (!INGRESS_TYPES.includes(args.type)) return;
        const { alias, pattern, expected } = hostNameRule(args);
        const hosts = new Set<string>();
        ruleHosts(args.props).forEach((h) => { if (h) hosts.add(h); });
        tlsEntries(args.props).forEach((t) => (Array.isArray(t.hosts) ? t.hosts : []).forEach((h: unknown) => { if (typeof h === "string") hosts.add(h); }));
        for (const host of hosts) {
            if (!pattern.test(host)) reportViolation(`Host "${host}" does not follow the naming rule for stack "${alias}": expected ${expected}.`);
        }
    },
};
