/** Turns one raw change (plain values) into the report's masked ResourceChange, with flags and policy results. */
import { MASK } from "../secret-values";
import { displayValue } from "./display";
import type { RawFieldChange } from "./diff";
import { flagsFor, type RawChange } from "./flags";
import type { Masker } from "./masker";
import type { FieldChange, PolicyFinding, ResourceChange } from "./model";
import { childPath, parsePath } from "./paths";

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
    const fields: FieldChange[] = input.fields.slice(0, MAX_FIELDS).map((f) => {
        const secret = masker.isSecretPath(urn, type, f.path) || isUnderSecret(masker, urn, type, f.path);
        const side = (v: unknown) => (v === undefined ? undefined : displayValue(secret ? maskAll(v) : masker.mask(urn, type, f.path, v)));
        const out: FieldChange = { path: masker.scrub(f.path), kind: f.kind, old: side(f.old), new: side(f.new) };
        if (secret) out.secret = true;
        if (replace.has(f.path) || [...replace].some((r) => f.path.startsWith(`${r}.`) || f.path.startsWith(`${r}[`))) out.replace = true;
        return out;
    });
    const findings = policy && input.op !== "delete" && input.op !== "same" && input.new ? policy(input) : [];
    return {
        bank: input.bank,
        urn: masker.scrub(urn),
        type,
        name: masker.scrub(input.name),
        object: scrubbed(masker, kubernetesName(input)),
        op: input.op,
        protect: input.protect,
        fields,
        omittedFields: Math.max(0, input.fields.length - MAX_FIELDS),
        flags: flagsFor(input).map((f) => ({ ...f, message: masker.scrub(f.message) })),
        policy: findings.map((p) => ({ policy: p.policy, severity: p.severity, message: masker.scrub(p.message) })),
    };
}

function scrubbed(masker: Masker, text: string | undefined): string | undefined {
    return text === undefined ? undefined : masker.scrub(text);
}

function maskAll(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(maskAll);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskAll(x)]));
    return v === null ? null : MASK;
}

/** Whether any parent path of `path` is secret (then the whole subtree is). */
function isUnderSecret(masker: Masker, urn: string, type: string, path: string): boolean {
    let segments: (string | number)[];
    try {
        segments = parsePath(path);
    } catch {
        return false;
    }
    let prefix = "";
    for (const s of segments.slice(0, -1)) {
        prefix = childPath(prefix, s);
        if (masker.isSecretPath(urn, type, prefix)) return true;
    }
    return false;
}

function kubernetesName(c: RawChange): string | undefined {
    if (!c.type.startsWith("kubernetes:")) return undefined;
    const o = c.new ?? c.old;
    const m = (o?.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = (o?.kind as string | undefined) ?? c.type.split(":").pop();
    return m.name ? `${kind}/${m.namespace ? `${m.namespace}/` : ""}${m.name}` : undefined;
}
