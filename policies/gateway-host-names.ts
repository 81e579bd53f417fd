/** Mandatory: the Gateway API equivalent of ingress-host-names, for the listeners of a ListenerSet or the bank's Gateway, and HTTPRoute hostnames. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { hostnamesOf, HTTP_ROUTE_TYPE, LISTENER_HOLDER_TYPES, listenersOf } from "./lib/gateway";
import { hostNameRule } from "./ingress-host-names";
import { PLATFORM_CONFIG_SCHEMA } from "./lib/stack";

export const gatewayHostNames: ResourceValidationPolicy = {
    name: "gateway-host-names",
    description: "Every listener hostname (ListenerSet or Gateway) and HTTPRoute hostname is backoffice-<alias>-<env>.<baseDomain> or api-<alias>-<env>.<baseDomain> for this stack's alias.",
    enforcementLevel: "mandatory",
    configSchema: PLATFORM_CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        if (!LISTENER_HOLDER_TYPES.includes(args.type) && args.type !== HTTP_ROUTE_TYPE) return;
        const rule = hostNameRule(args);
        const hosts = args.type !== HTTP_ROUTE_TYPE ? listenersOf(args.props).map((l) => l.hostname) : hostnamesOf(args.props);
        if (args.type === HTTP_ROUTE_TYPE && hosts.length === 0) reportViolation(`HTTPRoute names no hostnames: it would serve every host of its listeners; expected ${rule.expected}.`);
        for (const host of hosts) {
            if (typeof host !== "string" || !rule.allowed(host)) reportViolation(`Host "${String(host)}" does not follow the naming rule for stack "${rule.alias}": expected ${rule.expected}.`);
        }
    },
};
