/** An audit report from one or more `pulumi preview --json` documents (one per bank stack). */
import { buildChange, type ChangeInput } from "./change";
import { diffValues, leaves, type RawFieldChange } from "./diff";
import { isSecretValue, MASK, SECRET_KEY, unwrapSecrets } from "../../../domain/secret-values";
import { loadStackConfig, readProject } from "../engine/stack-config";
import { Masker } from "./masker";
import type { AuditReport, Diagnostic, Op, PreviewFailure, ResourceChange } from "./model";
import { parsePath, type Segment } from "./paths";
import { checkPolicies } from "./policy";
import { UNKNOWN_VALUE, type PreviewDocument, type PreviewStep, type ResourceState, type StepOp } from "./preview";
import { assembleReport } from "./report";
import { isSecretName } from "./shapes";
import { PROJECT_ROOT } from "../../../domain/project";

const FOLD: Record<StepOp, Op> = {
    "same": "same", "create": "create", "update": "update", "delete": "delete", "replace": "replace",
    "create-replacement": "replace", "delete-replaced": "replace", "discard-replaced": "replace", "import-replacement": "replace",
    "read": "read", "read-replacement": "read", "refresh": "refresh", "discard": "discard", "remove-pending-replace": "delete", "import": "import",
};
/** Steps that are one half of a replacement Pulumi also counts as `replace`: not counted again. */
const REPLACEMENT_HALVES = new Set<StepOp>(["create-replacement", "delete-replaced", "discard-replaced", "import-replacement", "read-replacement"]);

export interface PreviewAuditOptions {
    /** Per bank, the namespaced config keys the stack file holds as secrets; default: this repository's stack files. */
    secretConfigKeys?: (bank: string) => string[];
    /** Run the policy pack over each new state (default true). */
    policies?: boolean;
}

interface Grouped {
    bank: string;
    urn: string;
    type: string;
    name: string;
    ops: Set<StepOp>;
    steps: PreviewStep[];
    oldState?: ResourceState;
    newState?: ResourceState;
}

export function auditPreviews(docs: PreviewDocument[], options: PreviewAuditOptions = {}): AuditReport {
    const masker = new Masker();
    const groups = new Map<string, Grouped>();
    const warnings: string[] = [];
    const filesOf = new Map<string, string[]>();
    for (const doc of docs) {
        const bank = bankOf(doc);
        filesOf.set(bank, [...(filesOf.get(bank) ?? []), doc.file]);
        for (const step of doc.steps) {
            let g = groups.get(step.urn);
            if (!g) groups.set(step.urn, (g = { bank: step.bank, urn: step.urn, type: step.type, name: step.name, ops: new Set(), steps: [] }));
            g.ops.add(step.op);
            g.steps.push(step);
            g.oldState ??= step.oldState;
            g.newState ??= step.newState;
            for (const s of [step.oldState, step.newState]) {
                if (!s) continue;
                masker.learn(step.urn, s.type, s.outputs, s.additionalSecretOutputs);
                masker.learn(step.urn, s.type, s.inputs);
            }
        }
        learnConfig(masker, doc, options);
        if (doc.maybeCorrupt) warnings.push(`${doc.file}: Pulumi reports that one or more of ${bank}'s resources may be corrupt (maybeCorrupt).`);
    }
    for (const [bank, files] of filesOf) {
        if (files.length > 1) warnings.push(`${files.length} previews of bank ${bank} (${files.join(", ")}) are merged into one section: check that they are of the same change.`);
    }
    const banks = new Set<string>(filesOf.keys());
    const changes: ResourceChange[] = [];
    for (const g of groups.values()) {
        banks.add(g.bank);
        changes.push(buildChange(changeInput(g, groups), masker, options.policies === false ? undefined : (c) => {
            const n = g.newState;
            return n ? checkPolicies({ urn: c.urn, type: c.type, name: c.name, props: c.new ?? {}, protect: n.protect, parent: n.parent }, c.bank) : [];
        }));
    }
    // Messages are scrubbed of secrets; the URNs in them and beside them stay whole, so the resource can be found.
    const diagnostics: Diagnostic[] = docs.flatMap((doc) => doc.diagnostics.map((d) => ({
        bank: (d.urn && groups.get(d.urn)?.bank) ?? bankOf(doc),
        urn: d.urn,
        severity: d.severity,
        message: masker.scrub(d.message),
    })));
    const failures: PreviewFailure[] = docs.filter((d) => d.failed).map((doc) => ({
        bank: bankOf(doc),
        source: "preview" as const,
        file: doc.file,
        errors: doc.diagnostics.filter((d) => d.severity === "error").map((d) => ({ urn: d.urn, message: masker.scrub(d.message) })),
    }));
    return assembleReport({
        title: "Audit of a Pulumi preview",
        source: docs.map((d) => d.file).join(", "),
        changes,
        diagnostics,
        policyRan: options.policies !== false,
        banks: [...banks],
        counts: summaryCounts(docs),
        failures,
        warnings,
    });
}

/** The bank a preview is of; a file with neither steps, diagnostics' URNs nor config is named by its file. */
export function bankOf(doc: PreviewDocument): string {
    return doc.bank ?? doc.file;
}

/**
 * Counts per bank and operation from Pulumi's changeSummary (which counts every resource, shown or not), folded as
 * the report folds steps; a bank whose preview has no summary is counted from its steps.
 */
function summaryCounts(docs: PreviewDocument[]): Map<string, Partial<Record<Op, number>>> {
    const out = new Map<string, Partial<Record<Op, number>>>();
    for (const doc of docs) {
        if (!doc.changeSummary) continue;
        const counts = out.get(bankOf(doc)) ?? {};
        for (const [op, n] of Object.entries(doc.changeSummary) as [StepOp, number][]) {
            if (REPLACEMENT_HALVES.has(op) && (doc.changeSummary.replace ?? 0) > 0) continue;
            counts[FOLD[op]] = (counts[FOLD[op]] ?? 0) + n;
        }
        out.set(bankOf(doc), counts);
    }
    return out;
}

function learnConfig(masker: Masker, doc: PreviewDocument, options: PreviewAuditOptions): void {
    const bank = doc.bank;
    const secretKeys = new Set(bank ? (options.secretConfigKeys ?? stackFileSecretKeys)(bank) : []);
    for (const [key, value] of Object.entries(doc.config)) {
        if (secretKeys.has(key) || isSecretName(key.split(":").pop() ?? key)) masker.addSecretValue(value);
    }
}

/** The program's knowledge of secret config: the keys a bank's stack file holds as `secure:` values. */
export function stackFileSecretKeys(bank: string): string[] {
    try {
        return loadStackConfig(readProject(PROJECT_ROOT), bank).secretKeys;
    } catch {
        return [];
    }
}

function opOf(g: Grouped): Op {
    for (const op of ["replace", "create-replacement", "delete-replaced", "import-replacement", "discard-replaced"] as const) if (g.ops.has(op)) return "replace";
    const order: StepOp[] = ["delete", "remove-pending-replace", "create", "update", "import", "read", "read-replacement", "refresh", "discard", "same"];
    return FOLD[order.find((op) => g.ops.has(op)) ?? "same"];
}

/** A state's properties as the flags and policies read them: outputs overlaid by inputs, secret markers removed. */
const merged = (s?: ResourceState) => (s ? (plain({ ...s.outputs, ...s.inputs }) as Record<string, unknown>) : undefined);

/** unwrapSecrets, copying only what holds a marker (most states hold none). */
function plain(v: unknown): unknown {
    if (typeof v !== "object" || v === null) return v;
    if (isSecretValue(v)) return unwrapSecrets(v[SECRET_KEY]);
    let out: Record<string, unknown> | unknown[] | undefined;
    for (const [k, x] of Object.entries(v)) {
        const y = plain(x);
        if (y !== x) (out ??= Array.isArray(v) ? [...v] : { ...v })[k as never] = y as never;
    }
    return out ?? v;
}

/**
 * The value at a path of a state: inside a value Pulumi blinded (`"[secret]"`), the mask; inside a secret marker, the
 * value still marked, so it is masked wherever it is shown.
 */
export function valueAt(root: unknown, segments: readonly Segment[]): unknown {
    let v = root;
    let secret = false;
    for (const s of segments) {
        if (isSecretValue(v)) {
            secret = true;
            v = v[SECRET_KEY];
        }
        if (v === MASK) return MASK;
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string, unknown>)[s as string];
    }
    return secret && v !== undefined ? { [SECRET_KEY]: v } : v;
}

/**
 * The old value of a diffed path: from the old inputs for an input diff; else from the old outputs, falling back to
 * the old inputs where the outputs lack the path. A live object need not echo its inputs: a Kubernetes Secret's
 * outputs hold `data` but never `stringData`, which only its inputs have, so an update of a `stringData` key would
 * otherwise read as an add (old side empty).
 */
function oldValueAt(old: ResourceState | undefined, segments: readonly Segment[], inputDiff: boolean): unknown {
    if (inputDiff) return valueAt(old?.inputs, segments);
    return valueAt(old?.outputs, segments) ?? valueAt(old?.inputs, segments);
}

const SECRET = "kubernetes:core/v1:Secret";
const DONE: Partial<Record<Op, string>> = { replace: "replaced", update: "updated", create: "created", delete: "deleted" };

/**
 * A Secret's values moving between the provider's two forms is one change of its values, not a deletion: the
 * Kubernetes provider turns known `stringData` into `data` when it checks inputs, so where the new values are not
 * known yet (made from a key or password this change replaces) the real preview reports `data` deleted and
 * `stringData` added, each blinded whole.
 */
function secretValuesMoved(type: string, fields: RawFieldChange[]): RawFieldChange[] {
    if (type !== SECRET) return fields;
    const gone = fields.find((f) => f.kind === "delete" && (f.path === "data" || f.path === "stringData"));
    const came = gone && fields.find((f) => f.kind === "add" && (f.path === "data" || f.path === "stringData") && f.path !== gone.path);
    if (!gone || !came) return fields;
    return fields.flatMap((f) => (f === gone ? [] : f === came ? [{ path: came.path, kind: "update" as const, old: gone.old, new: came.new }] : [f]));
}

/**
 * Each field whose value the preview cannot show (blinded whole as a secret, or known only after apply) gets its
 * `from`: the resources its top-level property is made from (the new state's propertyDependencies, else the old's)
 * that this preview changes too, as `replaced <name>`. A Secret's values are blinded whole in a real preview, so this
 * is what says which key or password makes them change. A value the report shows needs no cause, and
 * propertyDependencies are per top-level property: a plain env var would be blamed on every Secret its pod spec names.
 */
function withSources(g: Grouped, fields: RawFieldChange[], groups: ReadonlyMap<string, Grouped>): RawFieldChange[] {
    const deps = { ...g.oldState?.propertyDependencies, ...g.newState?.propertyDependencies };
    const hidden = (v: unknown): boolean => v === MASK || v === UNKNOWN_VALUE || (isSecretValue(v) && hidden(v[SECRET_KEY]));
    return fields.map((f) => {
        if (!hidden(f.old) && !hidden(f.new)) return f;
        const top = String(parsePathSafe(f.path)[0]);
        const from = [...new Set(deps[top] ?? [])].flatMap((urn) => {
            const dep = urn === g.urn ? undefined : groups.get(urn);
            const done = dep && DONE[opOf(dep)];
            return done ? [`${done} ${dep.name}`] : [];
        });
        return from.length ? { ...f, from } : f;
    });
}

function changeInput(g: Grouped, groups: ReadonlyMap<string, Grouped>): ChangeInput {
    const op = opOf(g);
    const oldProps = merged(g.oldState);
    const newProps = merged(g.newState);
    let fields: RawFieldChange[] = [];
    const replacePaths = new Set<string>();
    const diffReasons = [...new Set(g.steps.flatMap((s) => s.diffReasons))];
    for (const s of g.steps) s.replaceReasons.forEach((r) => replacePaths.add(r));
    if (op === "create" || op === "import") fields = leaves(g.newState?.inputs ?? {}, "add");
    else if (op === "delete") fields = leaves(g.oldState?.inputs ?? g.oldState?.outputs ?? {}, "delete");
    else if (op === "update" || op === "replace") {
        const detailed = g.steps.find((s) => s.detailedDiff && Object.keys(s.detailedDiff).length)?.detailedDiff;
        if (detailed) {
            for (const [path, d] of Object.entries(detailed).sort(([a], [b]) => a.localeCompare(b))) {
                const segments = parsePathSafe(path);
                const kind = d.kind.startsWith("add") ? "add" : d.kind.startsWith("delete") ? "delete" : "update";
                fields.push({ path, kind, old: kind === "add" ? undefined : oldValueAt(g.oldState, segments, d.inputDiff), new: kind === "delete" ? undefined : valueAt(g.newState?.inputs, segments) });
                if (d.kind.endsWith("-replace")) replacePaths.add(path);
            }
        } else {
            const all = diffValues(g.oldState?.inputs ?? {}, g.newState?.inputs ?? {});
            const top = (p: string) => parsePathSafe(p)[0];
            fields = diffReasons.length ? all.filter((f) => diffReasons.includes(String(top(f.path))) || diffReasons.includes(f.path)) : all;
        }
        fields = withSources(g, secretValuesMoved(g.type, fields), groups);
    }
    const protectBefore = g.oldState?.protect;
    const protectAfter = g.newState?.protect;
    return {
        bank: g.bank,
        urn: g.urn,
        type: g.type,
        name: g.name,
        op,
        protect: Boolean(g.newState ? protectAfter : protectBefore),
        ...(g.oldState ? { protectBefore } : {}),
        ...(g.newState ? { protectAfter } : {}),
        old: oldProps,
        new: newProps,
        changedPaths: [...new Set([...fields.map((f) => f.path), ...diffReasons])],
        fields,
        replacePaths: [...replacePaths],
    };
}

function parsePathSafe(p: string): Segment[] {
    try {
        return parsePath(p);
    } catch {
        return [p];
    }
}
