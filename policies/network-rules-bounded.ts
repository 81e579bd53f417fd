/** Mandatory: a NetworkPolicy rule without peers, or with an address block wider than a /24, admits the whole cluster or the internet (the bootstrap pod holds the recovery link). */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { parseCidr } from "../domain/cidrs";
import { isObject, Obj } from "./lib/kubernetes";

/** Widest ipBlock accepted: 256 addresses (IPv4 /24, IPv6 /120), as validation allows for the database and mail servers. */
const MIN_PREFIX = { 4: 24, 6: 120 } as const;

/** Every problem of one NetworkPolicy's ingress and egress rules. */
export function unboundedRules(props: Obj): string[] {
    const spec = isObject(props.spec) ? props.spec : {};
    const problems: string[] = [];
    for (const [direction, peersKey] of [["ingress", "from"], ["egress", "to"]] as const) {
        const rules: unknown[] = Array.isArray(spec[direction]) ? spec[direction] : [];
        rules.forEach((rule, i) => {
            const at = `spec.${direction}[${i}]`;
            const peers: unknown[] = isObject(rule) && Array.isArray(rule[peersKey]) ? rule[peersKey] : [];
            if (peers.length === 0) {
                problems.push(`${at} has no '${peersKey}': it admits every ${direction === "ingress" ? "source" : "destination"}; name the pods or addresses`);
                return;
            }
            peers.forEach((peer, j) => {
                const block = isObject(peer) && isObject(peer.ipBlock) ? peer.ipBlock : undefined;
                if (!block) return;
                const cidr = typeof block.cidr === "string" ? parseCidr(block.cidr) : "has no cidr";
                if (typeof cidr === "string") {
                    problems.push(`${at}.${peersKey}[${j}].ipBlock ${cidr}`);
                } else if (cidr.prefix < MIN_PREFIX[cidr.family]) {
                    problems.push(`${at}.${peersKey}[${j}].ipBlock ${cidr.text} is wider than a /${MIN_PREFIX[cidr.family]}: list the server's own addresses`);
                }
            });
        });
    }
    return problems;
}

export const networkRulesBounded: ResourceValidationPolicy = {
    name: "network-rules-bounded",
    description: "Every NetworkPolicy rule names its peers (no rule without from/to), and no ipBlock is wider than a /24 (IPv6 /120).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy") return;
        for (const problem of unboundedRules(args.props)) reportViolation(`${problem}.`);
    },
};
