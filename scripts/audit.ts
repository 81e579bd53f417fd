/**
 * `npm run audit`: a report auditors can read of what a change does to each bank, every secret masked.
 *   --preview FILE    from `pulumi preview --json` output (repeat for several banks)
 *   --render-diff REV from offline renders of every bank at a git revision and at the working tree
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { auditPreviews } from "./lib/audit/from-preview";
import { toHtml } from "./lib/audit/html";
import { toMarkdown } from "./lib/audit/markdown";
import type { AuditReport } from "./lib/audit/model";
import { AuditInputError, parsePreview } from "./lib/audit/preview";
import { auditRenderDiff } from "./lib/audit/render-diff";
import { parseCommand, processIo, runCli, usageError } from "./lib/cli";

const USAGE = `Usage: npm run audit -- --preview FILE [--preview FILE ...] [--out report.md|report.html]
       npm run audit -- --render-diff <git-rev> [--stack NAME ...] [--out report.md|report.html]

Writes an audit report of what a change does to each bank: a summary per operation and bank, field-level
changes (old and new), flags on what matters (signing key or key-keeper secrets replaced or deleted, host or
TLS, image, NetworkPolicy/RBAC widening access, protected resources), and the policy pack's results.
Every secret is masked, also when the preview was produced with --show-secrets.

  --preview FILE       output of \`pulumi preview --json\` (one per bank stack; repeatable)
  --render-diff REV    render every bank offline at git revision REV and at the working tree, and compare
  --stack NAME         with --render-diff: only these banks (repeatable)
  --out FILE           write the report here; .html gives one self-contained page, anything else Markdown.
                       Default: Markdown on stdout.

Exit codes: 0 report written; 1 a render or the report failed; 2 bad usage or an invalid input file.`;

export async function main(argv: string[]): Promise<number> {
    const args = parseCommand(argv, {
        "preview": { type: "string", multiple: true },
        "render-diff": { type: "string" },
        "stack": { type: "string", multiple: true },
        "out": { type: "string" },
    }, USAGE, processIo, false);
    if (typeof args === "number") return args;
    const { values } = args;
    const previews = values.preview ?? [];
    if ((previews.length > 0) === (values["render-diff"] !== undefined)) return usageError(processIo, "audit takes either --preview FILE or --render-diff <git-rev>.", USAGE);
    if (values.stack && !values["render-diff"]) return usageError(processIo, "--stack applies to --render-diff only.", USAGE);
    let report: AuditReport;
    let failed = false;
    try {
        if (previews.length) {
            const docs = previews.map((file) => {
                if (!fs.existsSync(file)) throw new AuditInputError(`--preview: ${file} does not exist.`);
                return parsePreview(fs.readFileSync(file, "utf8"), file);
            });
            report = auditPreviews(docs);
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
    if (out) {
        fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
        fs.writeFileSync(out, text);
        const flags = report.banks.reduce((n, b) => n + b.changes.reduce((m, c) => m + c.flags.length, 0), 0);
        const changes = report.banks.reduce((n, b) => n + b.changes.length, 0);
        process.stderr.write(`wrote ${out}: ${report.banks.length} bank(s), ${changes} change(s), ${flags} flag(s)\n`);
    } else {
        process.stdout.write(text);
    }
    return failed ? 1 : 0;
}

if (require.main === module) runCli(main);
