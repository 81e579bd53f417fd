/** Assembles changes into the report: per bank, counts by operation, changes most important first. */
import { FLAG_ORDER } from "./flags";
import { summariseBank } from "./lifecycle";
import type { AuditReport, BankOverview, BankReport, Diagnostic, Op, PreviewFailure, ResourceChange } from "./model";
import { OP_ORDER, SEVERITY_RANK, type Severity } from "./model";

const rank = (c: ResourceChange) => (c.flags.length ? FLAG_ORDER.indexOf(c.flags[0].kind) : FLAG_ORDER.length);

export function byImportance(a: ResourceChange, b: ResourceChange): number {
    return rank(a) - rank(b) || OP_ORDER.indexOf(a.op) - OP_ORDER.indexOf(b.op) || (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0);
}

export function assembleReport(args: {
    title: string;
    source: string;
    changes: ResourceChange[];
    diagnostics: Diagnostic[];
    policyRan: boolean;
    notes?: string[];
    /** Banks with no change still get a section. */
    banks?: string[];
    /** Counts per bank from the source's own summary (Pulumi's changeSummary), instead of counting changes. */
    counts?: Map<string, Partial<Record<Op, number>>>;
    failures?: PreviewFailure[];
    warnings?: string[];
    /** Banks that are new or retired: their changes are counted, then summarised (lifecycle.ts). */
    overviews?: Map<string, BankOverview>;
}): AuditReport {
    const banks = new Map<string, BankReport>();
    const bankOf = (name: string) => {
        let b = banks.get(name);
        if (!b) banks.set(name, (b = { bank: name, counts: {}, changes: [] }));
        return b;
    };
    for (const name of args.banks ?? []) bankOf(name);
    for (const c of args.changes) {
        const b = bankOf(c.bank);
        if (!args.counts?.has(c.bank)) b.counts[c.op] = (b.counts[c.op] ?? 0) + 1;
        // A `same` step is shown when its protection changes (that is why Pulumi emits it) or something flags it.
        if (c.op !== "same" || c.flags.length || (c.protectBefore !== undefined && c.protectAfter !== undefined && c.protectBefore !== c.protectAfter)) b.changes.push(c);
    }
    for (const [bank, counts] of args.counts ?? []) bankOf(bank).counts = { ...counts };
    for (const f of args.failures ?? []) bankOf(f.bank);
    for (const [bank, overview] of args.overviews ?? []) {
        const b = bankOf(bank);
        b.overview = overview;
        b.changes = summariseBank(b.changes, overview);
    }
    for (const b of banks.values()) b.changes.sort(byImportance);
    return {
        title: args.title,
        source: args.source,
        banks: [...banks.values()].sort((a, b) => a.bank.localeCompare(b.bank)),
        diagnostics: args.diagnostics,
        policyRan: args.policyRan,
        notes: args.notes ?? [],
        failures: args.failures ?? [],
        warnings: args.warnings ?? [],
    };
}

/** Every flag in a report with its change, highest severity first. */
export function allFlags(report: AuditReport): { change: ResourceChange; flag: ResourceChange["flags"][number] }[] {
    return report.banks.flatMap((b) => b.changes.flatMap((change) => change.flags.map((flag) => ({ change, flag }))))
        .sort((a, b) => SEVERITY_RANK[a.flag.severity] - SEVERITY_RANK[b.flag.severity]);
}

/** Whether a flag at or above `level` is present (for --fail-on). */
export function hasFlagAtOrAbove(report: AuditReport, level: Severity): boolean {
    return allFlags(report).some(({ flag }) => SEVERITY_RANK[flag.severity] <= SEVERITY_RANK[level]);
}

/** Operations that occur in a report, in display order. */
export function opsIn(report: AuditReport): Op[] {
    const seen = new Set<Op>();
    for (const b of report.banks) for (const op of Object.keys(b.counts) as Op[]) seen.add(op);
    return OP_ORDER.filter((op) => seen.has(op));
}
