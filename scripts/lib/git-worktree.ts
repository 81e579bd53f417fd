/**
 * A git revision of the project checked out beside the working tree: a temporary detached worktree sharing the
 * repository's node_modules, so the program at that revision runs as the current one does. For renders at a revision
 * (`npm run audit -- --render-diff REV`, `npm run render -- <stack> --diff REV`).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** git's stdout, trimmed; throws with git's stderr on failure. */
export function git(cwd: string, args: string[]): string {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The commit `rev` names in `repoDir`, or why it names none (a sentence starting with `flag`, for the user). */
export function resolveCommit(repoDir: string, rev: string, flag: string): { commit: string } | { error: string } {
    // An option-like revision would be read by git as an option.
    if (rev.startsWith("-")) return { error: `${flag}: '${rev}' is not a git revision.` };
    try {
        return { commit: git(repoDir, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]) };
    } catch {
        return { error: `${flag}: '${rev}' is not a commit in ${repoDir} (git rev-parse found nothing).` };
    }
}

/** A checked-out revision; `remove` deletes it and its temporary directory (call it in a `finally`). */
export interface RevisionWorktree {
    /** The worktree's directory (the project at the revision). */
    dir: string;
    remove(): void;
}

/** Checks `commit` out in a new temporary detached worktree whose node_modules is the repository's. */
export function addDetachedWorktree(repoDir: string, commit: string, prefix: string): RevisionWorktree {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const dir = path.join(tmp, "rev");
    const remove = () => {
        try {
            git(repoDir, ["worktree", "remove", "--force", dir]);
        } catch {
            git(repoDir, ["worktree", "prune"]);
        }
        fs.rmSync(tmp, { recursive: true, force: true });
    };
    try {
        git(repoDir, ["worktree", "add", "--detach", "--quiet", dir, commit]);
        const modules = path.join(repoDir, "node_modules");
        if (fs.existsSync(modules) && !fs.existsSync(path.join(dir, "node_modules"))) fs.symlinkSync(modules, path.join(dir, "node_modules"), "dir");
    } catch (e) {
        remove();
        throw e;
    }
    return { dir, remove };
}
