/** Mandatory: a host served without TLS exposes the bank officer's session and DCM tokens in clear text. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { INGRESS_TYPES, ruleHosts, tlsEntries } from "./lib/ingress";

export const ingressTls: ResourceValidationPolicy = {
    name: "ingress-tls",
    description: "Every Ingress host is covered by a TLS entry with a certificate Secret.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!INGRESS_TYPES.includes(args.type)) return;
        const tls = tlsEntries(args.props);
        const covered = new Set<string>();
        tls.forEach((entry, i) => {
            const hosts = Array.isArray(entry.hosts) ? entry.hosts.filter((h: unknown): h is string => typeof h === "string") : [];
            hosts.forEach((h: string) => covered.add(h));
            if (hosts.length === 0) reportViolation(`spec.tls[${i}] lists no hosts: name the hosts its certificate covers.`);
            if (typeof entry.secretName !== "string" || !entry.secretName) {
                reportViolation(`spec.tls[${i}] has no secretName: the certificate of ${hosts.join(", ") || "its hosts"} must live in a Secret.`);
            }
        });
        ruleHosts(args.props).forEach((host, i) => {
            if (host === undefined) reportViolation(`spec.rules[${i}] has no host: a catch-all rule cannot be covered by TLS.`);
            else if (!covered.has(host)) reportViolation(`Host "${host}" (spec.rules[${i}]) is not covered by TLS: add it to spec.tls[].hosts.`);
        });
    },
};
