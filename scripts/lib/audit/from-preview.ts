/** An audit report from one or more `pulumi preview --json` documents (one per bank stack). */
import { buildChange, type ChangeInput } from "./change";
import { diffValues, leaves, type RawFieldChange } from "./diff";
import { PROJECT_ROOT } from "../offline-run";
import { loadStackConfig, readProject } from "../stack-config";
import { Masker } from "./masker";
import type { AuditReport, Diagnostic, Op, ResourceChange } from "./model";
import { getPath, parsePath } from "./paths";
import { checkPolicies } from "./policy";
import type { PreviewDocument, PreviewStep, ResourceState, StepOp } from "./preview";
import { assembleReport } from "./report";
import { isSecretName } from "./shapes";

const FOLD: Record<StepOp, Op> = {
    "same": "same", "create": "create", "update": "update", "delete": "delete", "replace": "replace",
    "create-replacement": "replace", "delete-replaced": "replace", "discard-replaced": "replace", "import-replacement": "replace",
    "read": "read", "read-replacement": "read", "refresh": "refresh", "discard": "discard", "remove-pending-replace": "delete", "import": "import",
};

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
    for (const doc of docs) {
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
    }
    const banks = new Set<string>();
    const changes: ResourceChange[] = [];
    for (const g of groups.values()) {
        banks.add(g.bank);
        changes.push(buildChange(changeInput(g), masker, options.policies === false ? undefined : (c) => {
            const n = g.newState;
            return n ? checkPolicies({ urn: c.urn, type: c.type, name: c.name, props: c.new ?? {}, protect: n.protect, parent: n.parent }, c.bank) : [];
        }));
    }
    const diagnostics: Diagnostic[] = docs.flatMap((doc) => doc.diagnostics.map((d) => ({
        bank: (d.urn && groups.get(d.urn)?.bank) ?? doc.steps[0]?.bank ?? doc.file,
        urn: d.urn ? masker.scrub(d.urn) : undefined,
        severity: d.severity,
        message: masker.scrub(d.message),
    })));
    return assembleReport({
        title: "Audit of a Pulumi preview",
        source: docs.map((d) => d.file).join(", "),
        changes,
        diagnostics,
        policyRan: options.policies !== false,
        banks: [...banks],
    });
}

function learnConfig(masker: Masker, doc: PreviewDocument, options: PreviewAuditOptions): void {
    const bank = doc.steps[0]?.bank;
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

const merged = (s?: ResourceState) => (s ? { ...s.outputs, ...s.inputs } : undefined);

function changeInput(g: Grouped): ChangeInput {
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
                let segments;
                try {
                    segments = parsePath(path);
                } catch {
                    segments = [path];
                }
                const oldSource = d.inputDiff ? g.oldState?.inputs : (g.oldState?.outputs ?? g.oldState?.inputs);
                const kind = d.kind.startsWith("add") ? "add" : d.kind.startsWith("delete") ? "delete" : "update";
                fields.push({ path, kind, old: kind === "add" ? undefined : getPath(oldSource, segments), new: kind === "delete" ? undefined : getPath(g.newState?.inputs, segments) });
                if (d.kind.endsWith("-replace")) replacePaths.add(path);
            }
        } else {
            const all = diffValues(g.oldState?.inputs ?? {}, g.newState?.inputs ?? {});
            const top = (p: string) => parsePathSafe(p)[0];
            fields = diffReasons.length ? all.filter((f) => diffReasons.includes(String(top(f.path))) || diffReasons.includes(f.path)) : all;
        }
    }
    return {
        bank: g.bank,
        urn: g.urn,
        type: g.type,
        name: g.name,
        op,
        protect: Boolean(g.oldState?.protect || g.newState?.protect),
        // Preview states hold plain values (secrets blinded as "[secret]", or shown): no markers to unwrap.
        old: oldProps,
        new: newProps,
        changedPaths: [...new Set([...fields.map((f) => f.path), ...diffReasons])],
        fields,
        replacePaths: [...replacePaths],
    };
}

function parsePathSafe(p: string): (string | number)[] {
    try {
        return parsePath(p);
    } catch {
        return [p];
    }
}
