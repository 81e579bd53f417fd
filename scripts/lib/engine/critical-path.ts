/**
 * The critical path of a stack's resource graph: the longest chain of dependencies (explicit, through
 * Outputs, and parent) from a first resource to a last. Only custom resources count: a component is
 * registered at once and waits for nothing, so the chain's length is the number of provider operations
 * `pulumi up` must run one after another.
 */
import type { RecordedResource } from "./offline-runtime";

export interface CriticalPath {
    /** Number of custom resources on the longest chain. */
    length: number;
    /** The chain, first resource first, as `type name`. */
    chain: string[];
}

/** Every URN a resource waits for: dependencies, property dependencies and its parent. */
export function dependenciesOf(r: RecordedResource): string[] {
    return [...new Set([...r.dependencies, ...Object.values(r.propertyDependencies).flat(), ...(r.parent ? [r.parent] : [])])];
}

export function criticalPath(resources: readonly RecordedResource[]): CriticalPath {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const memo = new Map<string, { length: number; previous?: string }>();
    const visiting = new Set<string>();
    const depth = (urn: string): { length: number; previous?: string } => {
        const known = memo.get(urn);
        if (known) return known;
        const r = byUrn.get(urn);
        if (!r) return { length: 0 };
        if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
        visiting.add(urn);
        let best: { length: number; previous?: string } = { length: 0 };
        for (const dep of dependenciesOf(r)) {
            const d = depth(dep);
            if (d.length > best.length || (d.length === best.length && best.previous === undefined && byUrn.has(dep))) best = { length: d.length, previous: dep };
        }
        visiting.delete(urn);
        const result = { length: best.length + (r.custom ? 1 : 0), previous: best.previous };
        memo.set(urn, result);
        return result;
    };
    let last: string | undefined;
    let length = 0;
    for (const r of resources) {
        const d = depth(r.urn);
        if (d.length > length) {
            length = d.length;
            last = r.urn;
        }
    }
    const chain: string[] = [];
    for (let at = last; at !== undefined; at = memo.get(at)?.previous) {
        const r = byUrn.get(at)!;
        if (r.custom) chain.unshift(`${r.type} ${r.name}`);
    }
    return { length, chain };
}
