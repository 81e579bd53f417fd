/**
 * The audit report's model. Everything in it is already masked: renderers only ever see this, never a raw state.
 */

/** Operations as a report shows them (Pulumi's step ops folded: create-replacement + delete-replaced = replace). */
export type Op = "create" | "update" | "replace" | "delete" | "same" | "read" | "import" | "refresh" | "discard";

export const OP_ORDER: readonly Op[] = ["replace", "delete", "create", "update", "import", "read", "refresh", "discard", "same"];

export type Severity = "critical" | "high" | "medium" | "low";
export const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** What matters about a change, with the action it calls for. */
export interface Flag {
    severity: Severity;
    /** Stable identifier: signing-key, key-keeper-secrets, host-tls, image, access-widening, protected. */
    kind: string;
    message: string;
}

/** One field's change; values are display strings, masked. */
export interface FieldChange {
    /** Pulumi property path, e.g. `spec.rules[0].host`. */
    path: string;
    kind: "add" | "delete" | "update";
    old?: string;
    new?: string;
    /** The field is secret: both sides are shown as the mask. */
    secret?: boolean;
    /** The provider replaces the resource for this field. */
    replace?: boolean;
}

/** A policy violation beside the change it concerns; the message is masked. */
export interface PolicyFinding {
    policy: string;
    severity: string;
    message: string;
}

export interface ResourceChange {
    bank: string;
    urn: string;
    type: string;
    /** Pulumi logical name. */
    name: string;
    /** `Kind/namespace/name` for Kubernetes objects. */
    object?: string;
    op: Op;
    protect: boolean;
    fields: FieldChange[];
    /** Fields left out of `fields` to keep the report readable. */
    omittedFields: number;
    flags: Flag[];
    policy: PolicyFinding[];
}

export interface Diagnostic {
    bank: string;
    urn?: string;
    severity: string;
    message: string;
}

export interface BankReport {
    bank: string;
    /** Resources per operation, `same` included. */
    counts: Partial<Record<Op, number>>;
    /** Every change but `same`, most important first. */
    changes: ResourceChange[];
}

export interface AuditReport {
    title: string;
    /** Where the changes come from, e.g. the preview files or the git revision. */
    source: string;
    banks: BankReport[];
    diagnostics: Diagnostic[];
    /** Whether the policy pack ran (false: its evaluator is not available). */
    policyRan: boolean;
    notes: string[];
}
