/** The report as Markdown for review tools (GitHub, GitLab): every value escaped, nothing raw. */
import type { AuditReport, FieldChange, ResourceChange } from "./model";
import { opsIn } from "./report";

/** Text safe in Markdown prose and table cells: no markup, no HTML, one line. */
export function md(text: string): string {
    return text
        .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
        .replace(/([\\`*_[\]|~])/g, "\\$1")
        .replace(/\r?\n/g, " ");
}

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

export function toMarkdown(report: AuditReport): string {
    const out: string[] = [];
    out.push(`# ${md(report.title)}`, "", `Source: ${md(report.source)}`, "");
    const ops = opsIn(report);
    out.push("## Summary", "", `| Bank | ${ops.join(" | ")} | Flags |`, `|---|${ops.map(() => "---:").join("|")}|---|`);
    for (const b of report.banks) {
        const flags = b.changes.flatMap((c) => c.flags);
        const bySeverity = ["critical", "high", "medium"].map((s) => [s, flags.filter((f) => f.severity === s).length] as const).filter(([, n]) => n);
        out.push(`| ${md(b.bank)} | ${ops.map((op) => b.counts[op] ?? 0).join(" | ")} | ${bySeverity.map(([s, n]) => `${n} ${s}`).join(", ") || "none"} |`);
    }
    out.push("");
    const flagged = report.banks.flatMap((b) => b.changes.filter((c) => c.flags.length));
    out.push("## What matters, highest first", "");
    if (!flagged.length) out.push("Nothing flagged.");
    const all = flagged.flatMap((c) => c.flags.map((f) => ({ c, f })));
    const order = ["critical", "high", "medium", "low"];
    all.sort((a, b) => order.indexOf(a.f.severity) - order.indexOf(b.f.severity));
    for (const { c, f } of all) out.push(`- **${f.severity.toUpperCase()}** ${md(c.bank)}: ${md(label(c))} (${c.op}): ${md(f.message)}`);
    out.push("");
    if (!report.policyRan) out.push("_Policy pack not run._", "");
    for (const b of report.banks) {
        out.push(`## Bank ${md(b.bank)}`, "");
        if (!b.changes.length) out.push("No changes.", "");
        for (const c of b.changes) out.push(...resource(c));
    }
    if (report.diagnostics.length) {
        out.push("## Diagnostics", "", "| Bank | Severity | Resource | Message |", "|---|---|---|---|");
        for (const d of report.diagnostics) out.push(`| ${md(d.bank)} | ${md(d.severity)} | ${d.urn ? md(d.urn) : ""} | ${md(d.message)} |`);
        out.push("");
    }
    for (const note of report.notes) out.push(`> ${md(note)}`, "");
    return `${out.join("\n").trimEnd()}\n`;
}

function label(c: ResourceChange): string {
    return c.object ?? `${c.type.split(":").pop()} ${c.name}`;
}

function resource(c: ResourceChange): string[] {
    const out = [`### ${c.op} ${md(label(c))}${c.protect ? " (protected)" : ""}`, "", `${code(c.type)} ${md(c.name)}`, ""];
    for (const f of c.flags) out.push(`- **${f.severity.toUpperCase()}** ${md(f.message)}`);
    for (const p of c.policy) out.push(`- Policy ${md(p.policy)} (${md(p.severity)}): ${md(p.message)}`);
    if (c.flags.length || c.policy.length) out.push("");
    if (c.fields.length) {
        out.push("| Field | Change | Old | New |", "|---|---|---|---|");
        for (const f of c.fields) out.push(field(f));
        if (c.omittedFields) out.push(`| ... | ${c.omittedFields} more fields | | |`);
        out.push("");
    }
    return out;
}

function field(f: FieldChange): string {
    const kind = `${f.kind}${f.replace ? " (forces replacement)" : ""}${f.secret ? " (secret)" : ""}`;
    return `| ${md(f.path)} | ${kind} | ${f.old === undefined ? "" : md(f.old)} | ${f.new === undefined ? "" : md(f.new)} |`;
}
