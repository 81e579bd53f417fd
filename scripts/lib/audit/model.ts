/**
 * The audit report's model. Everything in it is already masked: renderers only ever see this, never a raw state.
 */
import type { JwkSummary, KeySetDiff } from "./jwks";

/** Operations as a report shows them (Pulumi's step ops folded: create-replacement + delete-replaced = replace). */
export type Op = "create" | "update" | "replace" | "delete" | "same" | "read" | "import" | "refresh" | "discard";

export const OP_ORDER: readonly Op[] = ["replace", "delete", "create", "update", "import", "read", "refresh", "discard", "same"];

export type Severity = "critical" | "high" | "medium" | "low";
export const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** What matters about a change, with the action it calls for. */
export interface Flag {
    severity: Severity;
    /** Stable identifier: one of FLAG_ORDER (flags.ts), e.g. signing-key, key-keeper-secrets, host-tls, bank-new, bank-retired. */
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
    /**
     * Masked although nothing marked it secret: its name looks secret (an env var `SMTP_PASSWORD`), it holds a known
     * secret, or it looks like one (credentials in a URI, a private key). The program should mark it secret.
     */
    maskedByShape?: boolean;
    /**
     * The value is a JWKS: the kids the change adds, removes and keeps (with alg, kty, crv, use). `old` then lists the
     * old keys and `new` says the same as this, in words.
     */
    keySet?: KeySetDiff;
    /**
     * The resources the value is made from that this same change replaces, updates, creates or deletes (Pulumi's
     * propertyDependencies), e.g. `replaced key-keeper-identification`: why a value changes where the preview
     * blinds it whole (a Secret's `stringData`) or knows it only after apply.
     */
    from?: string[];
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
    /** Protected after the change (before it, for a delete). */
    protect: boolean;
    /** `protect` before and after (undefined: no such state, e.g. before a create). */
    protectBefore?: boolean;
    protectAfter?: boolean;
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

/** A preview (Pulumi reported errors) or render that failed: the change cannot be applied as it is. Masked. */
export interface PreviewFailure {
    bank: string;
    /** What failed: a `pulumi preview`, or an offline render of --render-diff. */
    source: "preview" | "render";
    /** The preview file, or which render. */
    file: string;
    errors: { urn?: string; message: string }[];
}

/** Who produced the report from what, so an auditor can tie it to a change and check its inputs. */
export interface Evidence {
    /** ISO 8601, UTC. */
    generatedAt: string;
    /** The operating-system user, and the git identity when one is set. */
    generatedBy: string;
    /** The project's commit, and whether its working tree differed from it. */
    project: { commit?: string; dirty?: boolean };
    /** `pulumi version`, or why it is not known. */
    pulumiCli: string;
    /** Provider plugin versions: from the preview's provider URNs, else the lockfile's SDK packages. */
    providers: { name: string; version: string; source: string }[];
    /** Each input file with the SHA-256 of its bytes. */
    inputs: { file: string; sha256: string; bank?: string }[];
    /** Each bank's Jira ticket (from its stack file), with a link when JIRA_BASE_URL is set. */
    banks: { bank: string; stackFile: string; jiraTicket?: string; jiraUrl?: string }[];
    /** For --render-diff: both sides and the commits between them. */
    renderDiff?: RenderDiffEvidence;
}

export interface RenderDiffEvidence {
    base: { rev: string; commit: string };
    head: { commit: string; dirty: boolean };
    /** Commits in head and not in base, newest first (at most 50 listed; `total` counts all). */
    commits: { hash: string; subject: string }[];
    total: number;
    /** Commits in base and not in head (the base is not an ancestor of head when above zero). */
    behind: number;
}

/**
 * A bank that is new (no stack at the old side) or retired (none at the new side), said once: what it is made of,
 * instead of a row per field of every object created or deleted. Masked like the rest.
 */
export interface BankOverview {
    /** `new`: onboarding, every resource created; `retired`: every resource deleted. */
    lifecycle: "new" | "retired";
    /** Resources created (new) or deleted (retired) by type (the type token's last part), most first. */
    resources: { type: string; count: number }[];
    /** The public hosts its Ingresses or Gateway API objects serve (new) or stop serving (retired), sorted. */
    hosts: string[];
    /** The keys its JWKS publishes (new) or withdraws (retired), by kid. */
    keys: JwkSummary[];
    /** How many of its resources are protected (a retirement: Pulumi refuses to delete them until unprotected). */
    protectedResources: number;
}

/** A config key of a bank's stack file that differs between the two sides of a render diff (names only, no value). */
export interface ConfigKeyChange {
    /** The namespaced key, e.g. `dcm-integration:signingKeys`. */
    key: string;
    /** 1-based line of the key in the new stack file; absent for a removed key. */
    line?: number;
    change: "added" | "changed" | "removed";
}

export interface BankReport {
    bank: string;
    /** Resources per operation, `same` included: Pulumi's changeSummary when the preview has one. */
    counts: Partial<Record<Op, number>>;
    /** Every change but `same`, most important first; for a new or retired bank, only those to read one by one. */
    changes: ResourceChange[];
    /** Set when the bank is new or retired: its changes summarised. */
    overview?: BankOverview;
    /** With --render-diff: the config keys of its stack file the diff changes, where SARIF places its results. */
    configChanges?: ConfigKeyChange[];
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
    /** Failed previews: shown first; the command exits 1. */
    failures: PreviewFailure[];
    /** Problems with the inputs an auditor must see before the changes (e.g. two previews of one bank). */
    warnings: string[];
    evidence?: Evidence;
}
