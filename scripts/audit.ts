/**
 * `npm run audit`: a report auditors can read of what a change does to each bank, every secret masked.
 *   --preview FILE    from `pulumi preview --json` output (repeat for several banks)
 *   --render-diff REV from offline renders of every bank at a git revision and at the working tree
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { toJson, toSarif } from "./lib/audit/data";
import { collectEvidence } from "./lib/audit/evidence";
import { auditPreviews } from "./lib/audit/from-preview";
import { toHtml } from "./lib/audit/html";
import { toMarkdown } from "./lib/audit/markdown";
import type { AuditReport, RenderDiffEvidence, Severity } from "./lib/audit/model";
import { AuditInputError, parsePreview, type PreviewDocument } from "./lib/audit/preview";
import { auditRenderDiff } from "./lib/audit/render-diff";
import { hasFlagAtOrAbove } from "./lib/audit/report";
import { parseCommand, processIo, runCli, usageError } from "./lib/cli";
import { PROJECT_ROOT } from "../domain/project";

const FAIL_ON: readonly Severity[] = ["critical", "high", "medium"];

const USAGE = `Usage: npm run audit -- --preview FILE [--preview FILE ...] [options]
       npm run audit -- --render-diff <git-rev> [--stack NAME ...] [options]

Writes an audit report of what a change does to each bank: a failed preview first, a summary per operation and
bank (Pulumi's own counts), field-level changes (old and new), flags on what matters (signing key or key-keeper
secrets replaced, deleted or unprotected, Kratos secrets regenerated, host, TLS or certificate issuer, image,
NetworkPolicy/RBAC widening access, protected resources), the policy pack's results, the evidence (who, when,
commit, tool versions, SHA-256 of each input, each bank's Jira ticket) and a sign-off block.
Every secret is masked, also values nobody marked secret that look like one (said as "masked by shape").

  --preview FILE       output of \`pulumi preview --json\` (one per bank stack; repeatable)
  --render-diff REV    render every bank offline at git revision REV and at the working tree, and compare
  --stack NAME         with --render-diff: only these banks (repeatable)
  --out FILE           write the report here; .html gives one self-contained page, anything else Markdown.
                       Default: Markdown on stdout.
  --json FILE          also write the report as JSON (every change, flag, policy result, failure, evidence)
  --sarif FILE         also write the flags and policy results as SARIF 2.1.0 (code-scanning UIs)
  --fail-on LEVEL      exit 1 when a flag of LEVEL or higher is present: critical, high or medium (CI gates)

Environment: JIRA_BASE_URL (e.g. https://jira.example.com) turns each bank's Jira ticket into a link.

Exit codes: 0 report written; 1 a preview or render failed, or a flag at --fail-on's level or above;
2 bad usage or an invalid input file.`;

export async function main(argv: string[]): Promise<number> {
    const args = parseCommand(argv, {
        "preview": { type: "string", multiple: true },
        "render-diff": { type: "string" },
        "stack": { type: "string", multiple: true },
        "out": { type: "string" },
        "json": { type: "string" },
        "sarif": { type: "string" },
        "fail-on": { type: "string" },
    }, USAGE, processIo, false);
    if (typeof args === "number") return args;
    const { values } = args;
    const previews = values.preview ?? [];
    if ((previews.length > 0) === (values["render-diff"] !== undefined)) return usageError(processIo, "audit takes either --preview FILE or --render-diff <git-rev>.", USAGE);
    if (values.stack && !values["render-diff"]) return usageError(processIo, "--stack applies to --render-diff only.", USAGE);
    const failOn = values["fail-on"];
    if (failOn !== undefined && !(FAIL_ON as readonly string[]).includes(failOn)) {
        return usageError(processIo, `--fail-on must be one of ${FAIL_ON.join(", ")}, got '${failOn}'.`, USAGE);
    }
    const outputs = [values.out, values.json, values.sarif].filter((f): f is string => f !== undefined);
    if (new Set(outputs.map((f) => path.resolve(f))).size < outputs.length) return usageError(processIo, "--out, --json and --sarif must name different files.", USAGE);
    let report: AuditReport;
    let failed = false;
    try {
        if (previews.length) {
            const docs = previews.map(readPreview);
            report = auditPreviews(docs);
            report.evidence = collectEvidence({ projectDir: PROJECT_ROOT, banks: report.banks.map((b) => b.bank), previews: docs });
        } else {
            const live = process.stderr.isTTY;
            const result = await auditRenderDiff({
                rev: values["render-diff"] as string,
                stacks: values.stack,
                progress: (line) => process.stderr.write(live ? `\r\x1b[K${line}` : `${line}\n`),
            });
            if (live) process.stderr.write("\n");
            report = result.report;
            failed = result.failed;
            report.evidence = collectEvidence({ projectDir: PROJECT_ROOT, banks: report.banks.map((b) => b.bank), renderDiff: result.evidence as RenderDiffEvidence });
        }
    } catch (e) {
        if (e instanceof AuditInputError) {
            process.stderr.write(`${e.message}\n`);
            return 2;
        }
        throw e;
    }
    const out = values.out;
    const text = out && /\.html?$/i.test(out) ? toHtml(report) : toMarkdown(report);
    const write = (file: string, content: string) => {
        fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
        fs.writeFileSync(file, content);
    };
    if (out) write(out, text);
    else process.stdout.write(text);
    if (values.json) write(values.json, toJson(report));
    if (values.sarif) write(values.sarif, toSarif(report));
    const flags = report.banks.reduce((n, b) => n + b.changes.reduce((m, c) => m + c.flags.length, 0), 0);
    const changes = report.banks.reduce((n, b) => n + b.changes.length, 0);
    if (outputs.length) process.stderr.write(`wrote ${outputs.join(", ")}: ${report.banks.length} bank(s), ${changes} change(s), ${flags} flag(s)\n`);
    for (const f of report.failures) process.stderr.write(`${f.source.toUpperCase()} FAILED: ${f.bank} (${f.file}): ${f.errors.length} error(s); see the report.\n`);
    for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
    const gate = failOn !== undefined && hasFlagAtOrAbove(report, failOn as Severity);
    if (gate) process.stderr.write(`--fail-on ${failOn}: the report has a flag at ${failOn} or above.\n`);
    return failed || report.failures.length > 0 || gate ? 1 : 0;
}

/** One --preview file: exit 2 naming the path when it is missing, a directory or unreadable. */
function readPreview(file: string): PreviewDocument {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch {
        throw new AuditInputError(`--preview: ${file} does not exist.`);
    }
    if (!stat.isFile()) throw new AuditInputError(`--preview: ${file} is ${stat.isDirectory() ? "a directory" : "not a regular file"}; give the file \`pulumi preview --json\` wrote.`);
    let bytes: Buffer;
    try {
        bytes = fs.readFileSync(file);
    } catch (e) {
        throw new AuditInputError(`--preview: ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    }
    return parsePreview(bytes.toString("utf8"), file, crypto.createHash("sha256").update(bytes).digest("hex"));
}

if (require.main === module) runCli(main);
