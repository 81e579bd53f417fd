/**
 * A bank with no stack at the old side is new (onboarding), one with none at the new side is retired. Neither is a
 * replacement: no old key stops verifying, nobody re-registers anything. Each is said once, as an overview (resource
 * counts by type, hosts, key ids) with one flag, instead of a flag and a row per field of every object.
 */
import { publicHosts } from "./flags";
import { keySetOf, keySetPaths, describeKey, type JwkSummary } from "./jwks";
import type { Masker } from "./masker";
import type { BankOverview, Flag, ResourceChange } from "./model";
import { getPath, parsePath } from "./paths";

export const STACK_TYPE = "pulumi:pulumi:Stack";

/** One resource of the bank's only state (the new one for a new bank, the old one for a retired bank), plain values. */
export interface LifecycleResource {
    type: string;
    protect: boolean;
    props?: Record<string, unknown>;
}

/** What a new or retired bank is made of; every value scrubbed by the masker (hosts and kids are public anyway). */
export function bankOverview(lifecycle: BankOverview["lifecycle"], resources: readonly LifecycleResource[], masker: Masker): BankOverview {
    const byType = new Map<string, number>();
    const hosts = new Set<string>();
    const keys = new Map<string, JwkSummary>();
    for (const r of resources) {
        if (r.type === STACK_TYPE) continue;
        const type = r.type.split(":").pop() ?? r.type;
        byType.set(type, (byType.get(type) ?? 0) + 1);
        publicHosts(r.type, r.props).forEach((h) => hosts.add(masker.scrub(h)));
    }
    // The JWKS ConfigMap and the stack output `jwks` publish the same keys: one entry per kid.
    for (const r of resources) {
        for (const path of keySetPaths(r.props)) {
            for (const k of keySetOf(getPath(r.props, parsePath(path))) ?? []) {
                const scrubbed = Object.fromEntries(Object.entries(k).map(([m, v]) => [m, masker.scrub(v)])) as unknown as JwkSummary;
                keys.set(scrubbed.kid, scrubbed);
            }
        }
    }
    return {
        lifecycle,
        resources: [...byType].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)),
        hosts: [...hosts].sort(),
        keys: [...keys.values()].sort((a, b) => a.kid.localeCompare(b.kid)),
        protectedResources: resources.filter((r) => r.type !== STACK_TYPE && r.protect).length,
    };
}

/** The one flag a new or retired bank gets. */
export function lifecycleFlag(o: BankOverview): Flag {
    const total = o.resources.reduce((n, r) => n + r.count, 0);
    const hosts = o.hosts.length ? o.hosts.join(", ") : "none";
    const kids = o.keys.length ? o.keys.map(describeKey).join(", ") : "none";
    if (o.lifecycle === "new") {
        return {
            severity: "medium", kind: "bank-new",
            message: `New bank: onboarding, not a replacement (${total} resources created; no existing key or credential changes). `
                + `New public hosts: ${hosts}. Its JWKS publishes kid ${kids}. The bank officer registers the entity users' secrets in the bank's key keeper (plan step 7).`,
        };
    }
    return {
        severity: "high", kind: "bank-retired",
        message: `Bank retired: ${total} resources deleted, ${o.protectedResources} of them protected (Pulumi refuses until they are unprotected on purpose). `
            + `Hosts no longer served: ${hosts}. Kid ${kids} leaves the JWKS, so DCM can no longer call the bank's key keeper. Expected only when the bank and the DCM Admin agreed.`,
    };
}

/**
 * A new or retired bank's changes as the report shows them: the root stack's change carrying the one flag, and the
 * resources the policy pack found something on (their findings, no field rows); every other change is in the counts
 * and the overview. The per-resource flags are dropped: against no old state they say nothing true.
 */
export function summariseBank(changes: readonly ResourceChange[], overview: BankOverview): ResourceChange[] {
    const bare = (c: ResourceChange): ResourceChange => ({ ...c, flags: [], fields: [], omittedFields: 0 });
    const root = changes.find((c) => c.type === STACK_TYPE) ?? changes[0];
    if (!root) return [];
    return [
        { ...bare(root), flags: [lifecycleFlag(overview)] },
        ...changes.filter((c) => c !== root && c.policy.length).map(bare),
    ];
}
