/**
 * `npm run render -- <stack> --diff REV`, like `helm diff`: the stack rendered at a git revision (a temporary
 * detached worktree, see git-worktree.ts) and in the working tree, both reproducibly from the same seed so only
 * real changes show, compared as a unified diff of their manifests.yaml, every secret masked.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { structuredPatch } from "diff";
import { Masker } from "./audit/masker";
import { addDetachedWorktree, resolveCommit } from "./git-worktree";
import { manifestsYaml } from "./engine/manifests";
import { renderForCommand, type RecordedResource } from "./engine/offline-run";
import { listStacks, readProject, stackFilePath } from "./engine/stack-config";
import { PROJECT_ROOT } from "../../domain/project";

/** The seed both sides of a diff are rendered with when the user names none. */
export const DIFF_SEED = "render --diff";

/** Exit codes of `render --diff`, as `git diff --exit-code` has them, and for failures. */
export const DIFF_EXIT = { same: 0, changed: 1, usage: 2, renderFailed: 3 } as const;

export interface StackDiffOptions {
    /** The bank's stack. */
    stack: string;
    /** Git revision to compare the working tree with. */
    rev: string;
    /** Repository (and project) directory; default the repository root. */
    repoDir?: string;
    /** Seed of both renders; default DIFF_SEED. */
    seed?: string;
    /** Prefix planted in every generated password, for leak tests. */
    secretCanary?: string;
    /** Type check each render as the CLI does (default true); tests pass false after `npm run typecheck`. */
    typecheck?: boolean;
    /** Where progress and errors go (stderr). */
    err?: (text: string) => void;
}

export interface StackDiff {
    /** DIFF_EXIT's code. */
    code: number;
    /** The unified diff ("" when nothing changed or a render failed). */
    diff: string;
}

export async function diffStackAt(options: StackDiffOptions): Promise<StackDiff> {
    const repoDir = options.repoDir ?? PROJECT_ROOT;
    const err = options.err ?? ((t: string) => { process.stderr.write(t); });
    const seed = options.seed ?? DIFF_SEED;
    const resolved = resolveCommit(repoDir, options.rev, "--diff");
    if ("error" in resolved) {
        err(`${resolved.error}\n`);
        return { code: DIFF_EXIT.usage, diff: "" };
    }
    const hasStack = (dir: string) => fs.existsSync(path.join(dir, "Pulumi.yaml")) && fs.existsSync(stackFilePath(readProject(dir), options.stack));
    const checkout = addDetachedWorktree(repoDir, resolved.commit, "dcm-render-diff-");
    try {
        const sides = [
            { dir: checkout.dir, label: `at ${options.rev}` },
            { dir: repoDir, label: "in the working tree" },
        ].map((side) => ({ ...side, present: hasStack(side.dir) }));
        if (!sides.some((s) => s.present)) {
            const stacks = [...new Set(sides.flatMap((s) => (fs.existsSync(path.join(s.dir, "Pulumi.yaml")) ? listStacks(readProject(s.dir)) : [])))].sort();
            err(`stack '${options.stack}' has no config file at ${options.rev} nor in the working tree. The stacks are: ${stacks.join(", ") || "none"}.\n`);
            return { code: DIFF_EXIT.usage, diff: "" };
        }
        // Both sides at once: two worker processes, as the audit's render diff runs them.
        const rendered = await Promise.all(sides.map(async (side) => {
            if (!side.present) {
                err(`stack '${options.stack}' has no config file ${side.label}: shown as all ${side.dir === repoDir ? "removed" : "added"}.\n`);
                return [] as RecordedResource[];
            }
            const outcome = await renderForCommand(options.stack, err, {
                projectDir: side.dir, seed, label: side.label, secretCanary: options.secretCanary, typecheck: options.typecheck,
            });
            return typeof outcome === "number" ? outcome : outcome.resources;
        }));
        const codes = rendered.filter((r): r is number => typeof r === "number");
        // Invalid configuration (2) is the user's to fix and wins over a failed program (render: 1, here 3).
        if (codes.length) return { code: codes.includes(2) ? DIFF_EXIT.usage : DIFF_EXIT.renderFailed, diff: "" };
        const [before, after] = rendered as RecordedResource[][];
        const diff = unifiedDiff(maskedManifests(before, after), {
            stack: options.stack, before: `${options.rev} (${resolved.commit.slice(0, 12)})`, after: "working tree",
        });
        return { code: diff ? DIFF_EXIT.changed : DIFF_EXIT.same, diff };
    } finally {
        checkout.remove();
    }
}

/**
 * Both sides' manifests.yaml (secrets masked by marking and shape, manifests.ts), then scrubbed of every secret value
 * either side holds (the audit's Masker), so a secret the program copied into an unmarked field is masked as well.
 */
function maskedManifests(before: readonly RecordedResource[], after: readonly RecordedResource[]): [string, string] {
    const masker = new Masker();
    for (const r of [...before, ...after]) {
        masker.learn(r.urn, r.type, r.outputs, r.additionalSecretOutputs);
        masker.learn(r.urn, r.type, r.inputs);
    }
    const scrub = (yaml: string) => yaml.split("\n").map((line) => masker.scrub(line)).join("\n");
    return [scrub(manifestsYaml(before)), scrub(manifestsYaml(after))];
}

/** A git-style unified diff (3 lines of context), "" for equal texts. */
export function unifiedDiff([before, after]: [string, string], names: { stack: string; before: string; after: string }): string {
    if (before === after) return "";
    const file = `${names.stack}/manifests.yaml`;
    const patch = structuredPatch(`a/${file}`, `b/${file}`, before, after, undefined, undefined, { context: 3 });
    // git numbers an empty side's range from 0 (`@@ -0,0 +1,12 @@`); jsdiff from 1.
    const start = (line: number, count: number) => (count === 0 ? Math.max(0, line - 1) : line);
    return [
        `--- a/${file}\t${names.before}`,
        `+++ b/${file}\t${names.after}`,
        ...patch.hunks.flatMap((h) => [
            `@@ -${start(h.oldStart, h.oldLines)},${h.oldLines} +${start(h.newStart, h.newLines)},${h.newLines} @@`,
            ...h.lines,
        ]),
    ].join("\n") + "\n";
}
