/** The report as one self-contained HTML page: inline style, no script, no external resource, everything escaped. */
import { evidenceRows, fieldKind, notesOf, overviewRows, protection } from "./markdown";
import type { AuditReport, ResourceChange } from "./model";
import { allFlags, opsIn } from "./report";

export function esc(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1f24;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
td.v{font-family:ui-monospace,monospace;word-break:break-all;max-width:420px}th{background:#f6f8fa}
.critical{background:#ffebe9;color:#82071e}.high{background:#fff8c5;color:#6a4a00}.medium{background:#ddf4ff;color:#0a3069}
.flag{display:inline-block;padding:0 6px;border-radius:4px;font-weight:600;margin-right:6px}
section.res{border-left:4px solid #d0d7de;padding-left:12px;margin:1em 0}section.res.flagged{border-color:#cf222e}
code{font-family:ui-monospace,monospace;background:#f6f8fa;padding:0 3px}
.failed{border:2px solid #cf222e;background:#ffebe9;padding:8px 12px;margin:1em 0}.warn{border:1px solid #bf8700;background:#fff8c5;padding:6px 12px}
table.signoff td{min-width:12em;height:2em}`;

/**
 * Element ids for the table of contents: readable, unique in the page and safe for any bank alias or resource name.
 * Every character but ASCII letters, digits and `-` is written as `_` and its code point in hex (`_` too), so two
 * different names never share an id and nothing in a name can end the attribute or start markup.
 */
export class Anchors {
    private readonly used = new Set<string>();
    private readonly byKey = new Map<unknown, string>();

    static encode(text: string): string {
        return [...text].map((c) => (/[A-Za-z0-9-]/.test(c) ? c : `_${c.codePointAt(0)!.toString(16)}_`)).join("");
    }

    /** The id of `key` (a bank, a change), made from `parts` on first use. */
    of(key: unknown, ...parts: string[]): string {
        const known = this.byKey.get(key);
        if (known) return known;
        const base = parts.map(Anchors.encode).join("--");
        let id = base;
        for (let n = 2; this.used.has(id); n++) id = `${base}--${n}`;
        this.used.add(id);
        this.byKey.set(key, id);
        return id;
    }
}

export function toHtml(report: AuditReport): string {
    const ops = opsIn(report);
    const parts: string[] = [];
    const anchors = new Anchors();
    const SECTIONS = { summary: "summary", flags: "what-matters", diagnostics: "diagnostics", evidence: "evidence", signoff: "sign-off" };
    for (const id of Object.values(SECTIONS)) anchors.of(id, id);
    const bankId = (bank: string) => anchors.of(`bank:${bank}`, "bank", bank);
    const changeId = (c: ResourceChange) => anchors.of(c, "bank", c.bank, c.op, label(c));
    parts.push(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`);
    // No external resource may load: a CSP that allows only the inline style.
    parts.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    parts.push(`<title>${esc(report.title)}</title><style>${STYLE}</style></head><body>`);
    parts.push(`<h1>${esc(report.title)}</h1><p>Source: ${esc(report.source)}</p>`);
    for (const f of report.failures) {
        parts.push(`<div class="failed"><strong>${esc(f.source.toUpperCase())} FAILED</strong> for bank ${esc(f.bank)} (${esc(f.file)}): this change cannot be applied as it is. ${f.source === "render" ? "The program" : "Pulumi"} reported:<ul>${f.errors.map((e) => `<li>${e.urn ? `<code>${esc(e.urn)}</code>: ` : ""}${esc(e.message)}</li>`).join("")}</ul></div>`);
    }
    for (const w of report.warnings) parts.push(`<p class="warn"><strong>Warning:</strong> ${esc(w)}</p>`);
    // After what must be read first (failures, warnings), before everything else.
    parts.push(toc(report, { sections: SECTIONS, bankId, changeId }));
    parts.push(`<h2 id="${SECTIONS.summary}">Summary</h2><table><tr><th>Bank</th>${ops.map((op) => `<th>${esc(op)}</th>`).join("")}<th>Flags</th></tr>`);
    for (const b of report.banks) {
        const flags = b.changes.flatMap((c) => c.flags);
        const cell = ["critical", "high", "medium"].map((s) => [s, flags.filter((f) => f.severity === s).length] as const)
            .filter(([, n]) => n).map(([s, n]) => `<span class="flag ${s}">${n} ${s}</span>`).join("");
        const failed = report.failures.some((f) => f.bank === b.bank) ? `<span class="flag critical">failed</span>` : "";
        parts.push(`<tr><td><a href="#${esc(bankId(b.bank))}">${esc(b.bank)}</a></td>${ops.map((op) => `<td>${b.counts[op] ?? 0}</td>`).join("")}<td>${failed + cell || "none"}</td></tr>`);
    }
    parts.push(`</table><h2 id="${SECTIONS.flags}">What matters, highest first</h2>`);
    const all = allFlags(report).map(({ change: c, flag: f }) => ({ c, f }));
    parts.push(all.length ? `<ul>${all.map(({ c, f }) => `<li><span class="flag ${esc(f.severity)}">${esc(f.severity.toUpperCase())}</span>${esc(c.bank)}: <a href="#${esc(changeId(c))}"><code>${esc(label(c))}</code></a> (${esc(c.op)}): ${esc(f.message)}</li>`).join("")}</ul>` : "<p>Nothing flagged.</p>");
    if (!report.policyRan) parts.push("<p><em>Policy pack not run.</em></p>");
    for (const b of report.banks) {
        parts.push(`<h2 id="${esc(bankId(b.bank))}">Bank ${esc(b.bank)}</h2>`);
        if (report.failures.some((f) => f.bank === b.bank)) parts.push("<p><strong>The preview failed</strong>: what follows is what Pulumi had planned before it stopped.</p>");
        if (b.overview) parts.push(`<table>${overviewRows(b.overview).map((r) => `<tr><th>${esc(r.label)}</th><td class="v">${esc(r.value)}</td></tr>`).join("")}</table>`);
        else if (!b.changes.length) parts.push("<p>No changes.</p>");
        for (const c of b.changes) parts.push(resource(c, changeId(c)));
    }
    if (report.diagnostics.length) {
        parts.push(`<h2 id="${SECTIONS.diagnostics}">Diagnostics</h2><table><tr><th>Bank</th><th>Severity</th><th>Resource</th><th>Message</th></tr>`);
        for (const d of report.diagnostics) parts.push(`<tr><td>${esc(d.bank)}</td><td>${esc(d.severity)}</td><td class="v">${esc(d.urn ?? "")}</td><td>${esc(d.message)}</td></tr>`);
        parts.push("</table>");
    }
    for (const note of notesOf(report)) parts.push(`<p><em>${esc(note)}</em></p>`);
    if (report.evidence) {
        parts.push(`<h2 id="${SECTIONS.evidence}">Evidence</h2><table>`);
        for (const row of evidenceRows(report.evidence)) {
            // Only http(s) links: the href is an attribute of our own making, escaped like every value.
            const link = row.link && /^https?:\/\//.test(row.link.href) ? `<a href="${esc(row.link.href)}">${esc(row.link.text)}</a>, ` : "";
            parts.push(`<tr><th>${esc(row.label)}</th><td class="v">${link}${esc(row.value)}</td></tr>`);
        }
        parts.push("</table>");
    }
    parts.push(`<h2 id="${SECTIONS.signoff}">Sign-off</h2><table class="signoff"><tr><th>Reviewer</th><th>Decision (approve / reject)</th><th>Date</th><th>Notes</th></tr><tr><td></td><td></td><td></td><td></td></tr></table>`);
    parts.push("</body></html>\n");
    return parts.join("\n");
}

function label(c: ResourceChange): string {
    return c.object ?? `${c.type.split(":").pop()} ${c.name}`;
}

/** The table of contents: every section, each bank, and each bank's changes; every link has its target in the page. */
function toc(report: AuditReport, a: { sections: Record<"summary" | "flags" | "diagnostics" | "evidence" | "signoff", string>; bankId: (bank: string) => string; changeId: (c: ResourceChange) => string }): string {
    const link = (id: string, text: string) => `<a href="#${esc(id)}">${esc(text)}</a>`;
    const items = [`<li>${link(a.sections.summary, "Summary")}</li>`, `<li>${link(a.sections.flags, "What matters, highest first")}</li>`];
    for (const b of report.banks) {
        const changes = b.changes.map((c) => `<li>${link(a.changeId(c), `${c.op} ${label(c)}`)}</li>`).join("");
        items.push(`<li>${link(a.bankId(b.bank), `Bank ${b.bank}${b.overview ? ` (${b.overview.lifecycle} bank)` : ""}`)}${changes ? `<ul>${changes}</ul>` : ""}</li>`);
    }
    if (report.diagnostics.length) items.push(`<li>${link(a.sections.diagnostics, "Diagnostics")}</li>`);
    if (report.evidence) items.push(`<li>${link(a.sections.evidence, "Evidence")}</li>`);
    items.push(`<li>${link(a.sections.signoff, "Sign-off")}</li>`);
    return `<nav><h2>Contents</h2><ul>${items.join("")}</ul></nav>`;
}

function resource(c: ResourceChange, id: string): string {
    const out = [`<section class="res${c.flags.length ? " flagged" : ""}" id="${esc(id)}"><h3>${esc(c.op)} ${esc(label(c))}${esc(protection(c))}</h3>`];
    out.push(`<p><code>${esc(c.type)}</code> ${esc(c.name)}</p>`);
    for (const f of c.flags) out.push(`<p><span class="flag ${esc(f.severity)}">${esc(f.severity.toUpperCase())}</span>${esc(f.message)}</p>`);
    for (const p of c.policy) out.push(`<p>Policy <code>${esc(p.policy)}</code> (${esc(p.severity)}): ${esc(p.message)}</p>`);
    if (c.fields.length) {
        out.push(`<table><tr><th>Field</th><th>Change</th><th>Old</th><th>New</th></tr>`);
        for (const f of c.fields) {
            const kind = fieldKind(f);
            out.push(`<tr><td class="v">${esc(f.path)}</td><td>${esc(kind)}</td><td class="v">${esc(f.old ?? "")}</td><td class="v">${esc(f.new ?? "")}</td></tr>`);
        }
        if (c.omittedFields) out.push(`<tr><td colspan="4">${c.omittedFields} more fields</td></tr>`);
        out.push("</table>");
    }
    out.push("</section>");
    return out.join("");
}
