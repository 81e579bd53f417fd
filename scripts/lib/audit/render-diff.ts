/**
 * `--render-diff <git-rev>`: renders every bank offline at a git revision (a temporary detached worktree sharing
 * node_modules) and at the working tree, and reports per bank what is added, removed and changed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fromRecorded } from "../engine/policy-resources";
import { addDetachedWorktree, git, resolveCommit } from "../git-worktree";
import { runOffline, type OfflineOutcome } from "../engine/offline-run";
import { listStacks, readProject, stackFilePath } from "../engine/stack-config";
import { unwrapSecrets } from "../../../domain/secret-values";
import { compareRenders, counted } from "./compare-renders";
import { changedConfigKeys } from "./config-lines";
import { bankOverview } from "./lifecycle";
import { Masker } from "./masker";
import type { AuditReport, BankOverview, Diagnostic, PreviewFailure, RenderDiffEvidence, ResourceChange } from "./model";
import { checkPolicies } from "./policy";
import { AuditInputError } from "./preview";
import { assembleReport } from "./report";
import { unlistedSecretFields } from "./secret-fields";
import { PROJECT_ROOT } from "../../../domain/project";

export interface RenderDiffOptions {
    /** Git revision to compare the working tree with. */
    rev: string;
    /** Repository (and project) directory; default the repository root. */
    repoDir?: string;
    /** Only these banks (default: every stack file at either side). */
    stacks?: string[];
    /** Prefix planted in every generated password, for leak tests. */
    secretCanary?: string;
    /** Progress lines. */
    progress?: (line: string) => void;
    /** Renders at once (each is a Node process). */
    concurrency?: number;
    /** Type check each render as the CLI does (default true); tests pass false after `npm run typecheck`. */
    typecheck?: boolean;
}

export async function auditRenderDiff(options: RenderDiffOptions): Promise<{ report: AuditReport; failed: boolean; evidence: RenderDiffEvidence }> {
    const repoDir = options.repoDir ?? PROJECT_ROOT;
    const progress = options.progress ?? (() => undefined);
    const commit = resolveRev(repoDir, options.rev);
    const sides = compareRevisions(repoDir, options.rev, commit);
    const checkout = addDetachedWorktree(repoDir, commit, "dcm-audit-");
    const worktree = checkout.dir;
    try {
        const stacksAt = (dir: string) => (fs.existsSync(path.join(dir, "Pulumi.yaml")) ? listStacks(readProject(dir)) : []);
        const beforeStacks = stacksAt(worktree);
        const afterStacks = stacksAt(repoDir);
        const banks = (options.stacks ?? [...new Set([...beforeStacks, ...afterStacks])]).sort();
        const jobs: { bank: string; side: "before" | "after"; run: () => Promise<OfflineOutcome | undefined> }[] = [];
        for (const bank of banks) {
            jobs.push({ bank, side: "before", run: async () => (beforeStacks.includes(bank) ? runOffline({ projectDir: worktree, stack: bank, secretCanary: options.secretCanary, typecheck: options.typecheck }) : undefined) });
            jobs.push({ bank, side: "after", run: async () => (afterStacks.includes(bank) ? runOffline({ projectDir: repoDir, stack: bank, secretCanary: options.secretCanary, typecheck: options.typecheck }) : undefined) });
        }
        const results = new Map<string, OfflineOutcome | undefined>();
        let done = 0;
        await pool(jobs, options.concurrency ?? 2, async (job) => {
            const started = Date.now();
            const outcome = await job.run();
            results.set(`${job.bank}/${job.side}`, outcome);
            const where = job.side === "before" ? `at ${options.rev}` : "in the working tree";
            // No stack file at that side: nothing rendered, said as what it means for the bank.
            progress(`[${++done}/${jobs.length}] ${outcome === undefined
                ? `${job.bank}: not ${where} (${job.side === "before" ? "new bank" : "retired bank"})`
                : `rendered ${job.bank} ${where} in ${Date.now() - started} ms${outcome.ok ? "" : " (failed)"}`}`);
        });
        const masker = new Masker();
        const changes: ResourceChange[] = [];
        const diagnostics: Diagnostic[] = [];
        const failures: PreviewFailure[] = [];
        let failed = false;
        const unlisted = new Set<string>();
        const overviews = new Map<string, BankOverview>();
        for (const bank of banks) {
            const before = results.get(`${bank}/before`);
            const after = results.get(`${bank}/after`);
            for (const [side, o] of [["at " + options.rev, before], ["in the working tree", after]] as const) {
                if (o && !o.ok) {
                    failed = true;
                    diagnostics.push({ bank, severity: "error", message: `render ${side} failed: ${o.error}` });
                    failures.push({ bank, source: "render", file: `the render ${side}`, errors: [{ message: o.error }] });
                }
            }
            if ((before && !before.ok) || (after && !after.ok)) continue;
            if (after?.ok) unlistedSecretFields(after.resources).forEach((f) => unlisted.add(f));
            changes.push(...compareRenders(before?.ok ? before.resources : [], after?.ok ? after.resources : [], {
                bank, masker, policy: (r) => checkPolicies(fromRecorded(r), bank),
            }));
            // Only one side has a stack file: onboarding or retirement, not a replacement of everything.
            const only = !before && after?.ok ? { lifecycle: "new" as const, resources: after.resources } : before?.ok && !after ? { lifecycle: "retired" as const, resources: before.resources } : undefined;
            if (only) {
                overviews.set(bank, bankOverview(only.lifecycle, only.resources.filter(counted).map((r) => ({
                    type: r.type, protect: r.protect, props: unwrapSecrets(r.outputs) as Record<string, unknown>,
                })), masker));
            }
        }
        // Messages may quote values: scrubbed with everything the masker learned (commit subjects too).
        for (const d of diagnostics) d.message = masker.scrub(d.message);
        for (const f of failures) for (const e of f.errors) e.message = masker.scrub(e.message);
        for (const c of sides.commits) c.subject = masker.scrub(c.subject);
        const report = assembleReport({
            title: `Audit of the working tree against ${options.rev}`,
            source: `offline renders at ${options.rev} (${commit.slice(0, 12)}) and of the working tree at ${sides.head.commit.slice(0, 12)}${sides.head.dirty ? " with uncommitted changes" : ""}`,
            changes, diagnostics, policyRan: true, banks, failures, overviews,
            notes: [
                ...(unlisted.size ? [`The program marks secret fields the audit's table (scripts/lib/audit/secret-fields.ts) does not list, so a preview would mask them by shape only: ${[...unlisted].join(", ")}.`] : []),
                "Offline renders: generated values (passwords, keys) are compared as unchanged when their generator is unchanged; Kubernetes server-side fields are not modelled.",
            ],
        });
        // Which config keys each bank's stack file changes: where SARIF places the bank's results.
        const stackText = (dir: string, bank: string) => {
            const file = fs.existsSync(path.join(dir, "Pulumi.yaml")) ? stackFilePath(readProject(dir), bank) : undefined;
            return file && fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
        };
        for (const b of report.banks) b.configChanges = changedConfigKeys(stackText(worktree, b.bank), stackText(repoDir, b.bank));
        return { report, failed, evidence: sides };
    } finally {
        checkout.remove();
    }
}

/** Commits listed in the evidence; the rest are counted. */
const MAX_COMMITS = 50;

/** Both sides of a render diff: the base revision, the working tree's HEAD and state, and the commits between. */
export function compareRevisions(repoDir: string, rev: string, commit: string): RenderDiffEvidence {
    const head = git(repoDir, ["rev-parse", "HEAD"]);
    const dirty = git(repoDir, ["status", "--porcelain"]).length > 0;
    const log = git(repoDir, ["log", `--max-count=${MAX_COMMITS}`, "--format=%h%x09%s", `${commit}..${head}`]);
    // Subjects are one line; control and format characters (and line separators) become spaces.
    const commits = log ? log.split("\n").map((line) => {
        const [hash, ...subject] = line.split("\t");
        return { hash, subject: subject.join("\t").replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, " ") };
    }) : [];
    const count = (range: string) => Number(git(repoDir, ["rev-list", "--count", range])) || 0;
    return { base: { rev, commit }, head: { commit: head, dirty }, commits, total: count(`${commit}..${head}`), behind: count(`${head}..${commit}`) };
}

function resolveRev(repoDir: string, rev: string): string {
    const resolved = resolveCommit(repoDir, rev, "--render-diff");
    if ("error" in resolved) throw new AuditInputError(resolved.error);
    return resolved.commit;
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const runners = Array.from({ length: Math.max(1, Math.min(size, items.length)) }, async () => {
        while (next < items.length) await work(items[next++]);
    });
    await Promise.all(runners);
}
