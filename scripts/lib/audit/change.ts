/** Turns one raw change (plain values) into the report's masked ResourceChange, with flags and policy results. */
import { isSecretValue, MASK, SECRET_KEY } from "../../../domain/secret-values";
import { displayValue } from "./display";
import type { RawFieldChange } from "./diff";
import { flagsFor, type RawChange } from "./flags";
import type { Masker } from "./masker";
import type { FieldChange, PolicyFinding, ResourceChange } from "./model";
import { describeKey, describeKeySetDiff, diffKeySets, keySetOf, keySetPaths, type JwkSummary } from "./jwks";
import { childPath, getPath, parsePath } from "./paths";

/** Fields shown per resource; the rest are counted. */
export const MAX_FIELDS = 60;

export type PolicyCheck = (c: ChangeInput) => PolicyFinding[];

export interface ChangeInput extends RawChange {
    bank: string;
    fields: RawFieldChange[];
    /** Paths the provider replaces the resource for. */
    replacePaths?: string[];
}

export function buildChange(input: ChangeInput, masker: Masker, policy?: PolicyCheck): ResourceChange {
    const { urn, type } = input;
    const replace = new Set(input.replacePaths ?? []);
    const roots = [input.old, input.new];
    const keySets = keySetFields(input, masker);
    const raw = collapseKeySets(input.fields, keySets);
    const fields: FieldChange[] = raw.slice(0, MAX_FIELDS).map((f) => {
        const keySet = keySets.get(f.path);
        if (keySet) return keySet;
        // Secret by marking: Pulumi's or the program's knowledge of the field, or a secret marker on the value.
        const parents = secretParents(masker, urn, type, f.path);
        const marked = masker.isKnownSecretPath(urn, type, f.path) || parents.known || isSecretValue(f.old) || isSecretValue(f.new);
        const secret = marked || parents.named || masker.isSecretPathIn(urn, type, f.path, roots);
        let byShape = false;
        const side = (v: unknown) => {
            if (v === undefined) return undefined;
            if (secret) return displayValue(maskAll(v));
            const masked = masker.mask(urn, type, f.path, v);
            if (masked !== v && !containsMarker(v)) byShape = true;
            return displayValue(masked);
        };
        const out: FieldChange = { path: masker.scrub(f.path), kind: f.kind, old: side(f.old), new: side(f.new) };
        if (secret) out.secret = true;
        if (f.from?.length) out.from = f.from.map((x) => masker.scrub(x));
        // Masked by its name or its look, not by any marking: said as such, so the program gets to mark it.
        if ((secret && !marked) || byShape) out.maskedByShape = true;
        if (replace.has(f.path) || [...replace].some((r) => f.path.startsWith(`${r}.`) || f.path.startsWith(`${r}[`))) out.replace = true;
        return out;
    });
    const findings = policy && input.op !== "delete" && input.op !== "same" && input.new ? policy(input) : [];
    // URNs, type tokens and names identify the resource and hold no secret: never masked, so it can be found.
    return {
        bank: input.bank,
        urn,
        type,
        name: input.name,
        object: kubernetesName(input),
        op: input.op,
        protect: input.protect,
        ...(input.protectBefore !== undefined ? { protectBefore: input.protectBefore } : {}),
        ...(input.protectAfter !== undefined ? { protectAfter: input.protectAfter } : {}),
        fields,
        omittedFields: Math.max(0, raw.length - MAX_FIELDS),
        flags: flagsFor(input).map((f) => ({ ...f, message: masker.scrub(f.message) })),
        policy: findings.map((p) => ({ policy: p.policy, severity: p.severity, message: masker.scrub(p.message) })),
    };
}

/**
 * Each JWKS among the changed values (a JSON document with a `keys` array, as a string or an object), as one field
 * that says which kids are added, removed and kept, instead of its text cut short or a row per member. Only where the
 * value is not secret: a key set is public, and nothing secret is ever parsed for display.
 */
function keySetFields(input: ChangeInput, masker: Masker): Map<string, FieldChange> {
    const out = new Map<string, FieldChange>();
    const roots = [input.old, input.new];
    const paths = new Set([...keySetPaths(input.old), ...keySetPaths(input.new)]);
    for (const path of paths) {
        const segments = parsePath(path);
        const under = input.fields.filter((f) => inside(f.path, path));
        if (!under.length || masker.isSecretPathIn(input.urn, input.type, path, roots) || secretParents(masker, input.urn, input.type, path).known) continue;
        const [before, after] = roots.map((r) => getPath(r, segments));
        const [oldKeys, newKeys] = [keySetOf(before), keySetOf(after)];
        const kind = before === undefined ? "add" : after === undefined ? "delete" : "update";
        const scrubbed = (keys: JwkSummary[]) => keys.map((k) => Object.fromEntries(Object.entries(k).map(([m, v]) => [m, masker.scrub(v)])) as unknown as JwkSummary);
        const diff = diffKeySets(scrubbed(oldKeys ?? []), scrubbed(newKeys ?? []));
        const from = [...new Set(under.flatMap((f) => f.from ?? []))].map((x) => masker.scrub(x));
        // A side that is no key set (a value Pulumi knows only after apply) is shown as such.
        const show = (v: unknown, keys: JwkSummary[] | undefined) => (v === undefined ? undefined : keys ? scrubbed(keys).map(describeKey).join("; ") || "no keys" : displayValue(masker.mask(input.urn, input.type, path, v)));
        out.set(path, {
            path: masker.scrub(path), kind,
            old: show(before, oldKeys),
            new: after === undefined ? undefined : newKeys ? describeKeySetDiff(diff) : show(after, newKeys),
            ...(oldKeys || newKeys ? { keySet: diff } : {}),
            ...(from.length ? { from } : {}),
        });
    }
    return out;
}

const inside = (path: string, root: string) => path === root || path.startsWith(`${root}.`) || path.startsWith(`${root}[`);

/** The fields with every field under a key set replaced by one field at the key set's path, where the first stood. */
function collapseKeySets(fields: RawFieldChange[], keySets: Map<string, FieldChange>): RawFieldChange[] {
    if (!keySets.size) return fields;
    const seen = new Set<string>();
    const out: RawFieldChange[] = [];
    for (const f of fields) {
        const root = [...keySets.keys()].find((p) => inside(f.path, p));
        if (root === undefined) out.push(f);
        else if (!seen.has(root)) {
            seen.add(root);
            out.push({ path: root, kind: f.kind });
        }
    }
    return out;
}

function containsMarker(v: unknown, depth = 0): boolean {
    if (typeof v !== "object" || v === null || depth > 100) return false;
    return isSecretValue(v) || Object.values(v).some((x) => containsMarker(x, depth + 1));
}

function maskAll(v: unknown): unknown {
    if (isSecretValue(v)) return maskAll(v[SECRET_KEY]);
    if (Array.isArray(v)) return v.map(maskAll);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskAll(x)]));
    return v === null ? null : MASK;
}

/**
 * Whether a parent path of `path` is secret (then the whole subtree is): `known` by the program's or Pulumi's
 * marking, `named` by a parent field's secret-looking name.
 */
function secretParents(masker: Masker, urn: string, type: string, path: string): { known: boolean; named: boolean } {
    let segments: (string | number)[];
    try {
        segments = parsePath(path);
    } catch {
        return { known: false, named: false };
    }
    let prefix = "";
    let named = false;
    for (const s of segments.slice(0, -1)) {
        prefix = childPath(prefix, s);
        if (masker.isKnownSecretPath(urn, type, prefix)) return { known: true, named };
        named ||= masker.isSecretPath(urn, type, prefix);
    }
    return { known: false, named };
}

function kubernetesName(c: RawChange): string | undefined {
    if (!c.type.startsWith("kubernetes:")) return undefined;
    const o = c.new ?? c.old;
    const m = (o?.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = (o?.kind as string | undefined) ?? c.type.split(":").pop();
    return m.name ? `${kind}/${m.namespace ? `${m.namespace}/` : ""}${m.name}` : undefined;
}
