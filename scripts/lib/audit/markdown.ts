/** The report as Markdown for review tools (GitHub, GitLab): every value escaped, nothing raw. */
import { describeKey } from "./jwks";
import type { AuditReport, BankOverview, Evidence, FieldChange, ResourceChange } from "./model";
import { allFlags, opsIn } from "./report";

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
    for (const f of report.failures) {
        out.push(`> **${f.source.toUpperCase()} FAILED** for bank ${md(f.bank)} (${md(f.file)}): this change cannot be applied as it is. ${f.source === "render" ? "The program" : "Pulumi"} reported:`);
        for (const e of f.errors) out.push(`> - ${e.urn ? `${code(e.urn)}: ` : ""}${md(e.message)}`);
        out.push("");
    }
    for (const w of report.warnings) out.push(`> **Warning:** ${md(w)}`, "");
    const ops = opsIn(report);
    // One cell per operation that occurs (none when a failed preview counted nothing).
    const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
    out.push("## Summary", "", row(["Bank", ...ops, "Flags"]), `|---|${ops.map(() => "---:|").join("")}---|`);
    for (const b of report.banks) {
        const flags = b.changes.flatMap((c) => c.flags);
        const bySeverity = ["critical", "high", "medium"].map((s) => [s, flags.filter((f) => f.severity === s).length] as const).filter(([, n]) => n);
        const failed = report.failures.some((f) => f.bank === b.bank);
        out.push(row([md(b.bank), ...ops.map((op) => b.counts[op] ?? 0), [failed ? "failed" : "", bySeverity.map(([s, n]) => `${n} ${s}`).join(", ")].filter(Boolean).join(", ") || "none"]));
    }
    out.push("");
    out.push("## What matters, highest first", "");
    const all = allFlags(report);
    if (!all.length) out.push("Nothing flagged.");
    for (const { change: c, flag: f } of all) out.push(`- **${f.severity.toUpperCase()}** ${md(c.bank)}: ${md(label(c))} (${c.op}): ${md(f.message)}`);
    out.push("");
    if (!report.policyRan) out.push("_Policy pack not run._", "");
    for (const b of report.banks) {
        out.push(`## Bank ${md(b.bank)}`, "");
        if (report.failures.some((f) => f.bank === b.bank)) out.push("**The preview failed**: what follows is what Pulumi had planned before it stopped.", "");
        if (b.overview) {
            out.push(...overviewRows(b.overview).map((r) => `- **${md(r.label)}**: ${md(r.value)}`), "");
        } else if (!b.changes.length) out.push("No changes.", "");
        for (const c of b.changes) out.push(...resource(c));
    }
    if (report.diagnostics.length) {
        out.push("## Diagnostics", "", "| Bank | Severity | Resource | Message |", "|---|---|---|---|");
        for (const d of report.diagnostics) out.push(`| ${md(d.bank)} | ${md(d.severity)} | ${d.urn ? md(d.urn) : ""} | ${md(d.message)} |`);
        out.push("");
    }
    for (const note of notesOf(report)) out.push(`> ${md(note)}`, "");
    if (report.evidence) out.push(...evidence(report.evidence));
    out.push("## Sign-off", "", "| Reviewer | Decision (approve / reject) | Date | Notes |", "|---|---|---|---|", "| | | | |", "");
    return `${out.join("\n").trimEnd()}\n`;
}

/** The report's notes, and one when a value was masked by its shape rather than by any secret marking. */
export function notesOf(report: AuditReport): string[] {
    const byShape = report.banks.some((b) => b.changes.some((c) => c.fields.some((f) => f.maskedByShape)));
    return [
        ...report.notes,
        ...(byShape ? ["Values marked \"masked by shape\" were not marked secret by Pulumi or the program: they were masked because their name or their content looks secret (an env var such as SMTP_PASSWORD, a known secret value, credentials in a URI). Mark them secret in the program."] : []),
    ];
}

/** A new or retired bank's overview as label/value rows (shared with HTML). */
export function overviewRows(o: BankOverview): { label: string; value: string }[] {
    const created = o.lifecycle === "new";
    const total = o.resources.reduce((n, r) => n + r.count, 0);
    return [
        { label: created ? "New bank" : "Retired bank", value: created ? "no stack at the old side: every resource is created (onboarding), none replaced" : "no stack at the new side: every resource is deleted" },
        { label: created ? "Resources created" : "Resources deleted", value: `${total}: ${o.resources.map((r) => `${r.type} ${r.count}`).join(", ") || "none"}${o.protectedResources ? ` (${o.protectedResources} protected)` : ""}` },
        { label: created ? "Hosts" : "Hosts no longer served", value: o.hosts.join(", ") || "none" },
        { label: created ? "Keys published (JWKS)" : "Keys withdrawn (JWKS)", value: o.keys.map(describeKey).join("; ") || "none" },
    ];
}

/** The evidence as label/value rows (shared with HTML): every value already masked or public. */
export function evidenceRows(e: Evidence): { label: string; value: string; link?: { text: string; href: string } }[] {
    const rows: { label: string; value: string; link?: { text: string; href: string } }[] = [
        { label: "Generated", value: `${e.generatedAt} by ${e.generatedBy}` },
        { label: "Project commit", value: e.project.commit ? `${e.project.commit}${e.project.dirty ? " (working tree has uncommitted changes)" : " (working tree clean)"}` : "unknown (not a git checkout)" },
        { label: "Pulumi CLI", value: e.pulumiCli },
        { label: "Providers", value: e.providers.map((p) => `${p.name} ${p.version} (${p.source})`).join(", ") || "unknown" },
    ];
    for (const i of e.inputs) rows.push({ label: `Input ${i.file}`, value: `SHA-256 ${i.sha256}${i.bank ? ` (bank ${i.bank})` : ""}` });
    for (const b of e.banks) {
        rows.push({
            label: `Bank ${b.bank}`,
            value: b.jiraTicket ? `Jira ${b.jiraTicket}${b.jiraUrl ? "" : " (set JIRA_BASE_URL for a link)"}, ${b.stackFile}` : `no Jira ticket recorded in ${b.stackFile}`,
            ...(b.jiraTicket && b.jiraUrl ? { link: { text: b.jiraTicket, href: b.jiraUrl } } : {}),
        });
    }
    const r = e.renderDiff;
    if (r) {
        rows.push({ label: "Base revision", value: `${r.base.rev} = ${r.base.commit}` });
        rows.push({ label: "Compared with", value: `the working tree at ${r.head.commit}${r.head.dirty ? " with uncommitted changes" : " (clean)"}` });
        rows.push({ label: "Commits between", value: `${r.total} in the working tree's history and not in ${r.base.rev}${r.behind ? `; ${r.behind} in ${r.base.rev} and not in the working tree's history (not an ancestor)` : ""}` });
        for (const c of r.commits) rows.push({ label: `Commit ${c.hash}`, value: c.subject });
        if (r.total > r.commits.length) rows.push({ label: "...", value: `${r.total - r.commits.length} more commits` });
    }
    return rows;
}

function evidence(e: Evidence): string[] {
    const out = ["## Evidence", "", "| | |", "|---|---|"];
    for (const row of evidenceRows(e)) {
        const link = row.link ? `${linkMd(row.link.text, row.link.href)}, ` : "";
        out.push(`| ${md(row.label)} | ${link}${md(row.value)} |`);
    }
    out.push("");
    return out;
}

/** A Markdown link whose target cannot end early or carry markup: only an http(s) URL, parentheses and spaces encoded. */
function linkMd(text: string, href: string): string {
    const safe = href.replace(/[()\s<>[\]|`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
    return /^https?:\/\//.test(safe) ? `[${md(text)}](${safe})` : md(text);
}

function label(c: ResourceChange): string {
    return c.object ?? `${c.type.split(":").pop()} ${c.name}`;
}

function resource(c: ResourceChange): string[] {
    const out = [`### ${c.op} ${md(label(c))}${protection(c)}`, "", `${code(c.type)} ${md(c.name)}`, ""];
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

/** How protection stands, for a resource heading. */
export function protection(c: ResourceChange): string {
    if (c.protectBefore && c.protectAfter === false) return " (protection removed)";
    if (c.protectBefore === false && c.protectAfter) return " (protection added)";
    return c.protect ? " (protected)" : "";
}

export function fieldKind(f: FieldChange): string {
    return `${f.kind}${f.keySet ? " (key set)" : ""}${f.replace ? " (forces replacement)" : ""}${f.secret ? " (secret)" : ""}${f.maskedByShape ? " (masked by shape)" : ""}${f.from?.length ? ` (from ${f.from.join(", ")})` : ""}`;
}

function field(f: FieldChange): string {
    const kind = fieldKind(f);
    return `| ${md(f.path)} | ${kind} | ${f.old === undefined ? "" : md(f.old)} | ${f.new === undefined ? "" : md(f.new)} |`;
}
