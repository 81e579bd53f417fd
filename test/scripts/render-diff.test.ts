/**
 * `npm run render -- <stack> --diff REV` on a real git repository (a copy of the project, committed, then changed in
 * its working tree), both sides rendered by the real program: only the change shows, secrets never.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { DIFF_EXIT, diffStackAt } from "../../scripts/lib/manifest-diff";
import { PROJECT_ROOT } from "../../domain/project";

const CANARY = "CANARYRENDERDIFF";
const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=render-test", "-c", "user.email=render@test.invalid", ...args], { cwd, encoding: "utf8" });

describe("render --diff", () => {
    let repo: string;
    const stderr: string[] = [];
    const diff = (stack: string, rev = "HEAD") => diffStackAt({ stack, rev, repoDir: repo, typecheck: false, secretCanary: CANARY, err: (t) => stderr.push(t) });

    before(() => {
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "render-diff-repo-"));
        for (const f of ["Pulumi.yaml", "tsconfig.json", "package.json"]) fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(repo, f));
        for (const d of ["domain", "infra", "components"]) fs.cpSync(path.join(PROJECT_ROOT, d), path.join(repo, d), { recursive: true });
        fs.mkdirSync(path.join(repo, "stacks"));
        fs.copyFileSync(path.join(PROJECT_ROOT, "stacks", "Pulumi.demo.yaml"), path.join(repo, "stacks", "Pulumi.demo.yaml"));
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(repo, "node_modules"), "dir");
        fs.writeFileSync(path.join(repo, ".gitignore"), "node_modules\n");
        git(repo, "init", "--quiet");
        git(repo, "add", ".");
        git(repo, "commit", "--quiet", "-m", "base");
    });

    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("prints nothing and exits 0 when nothing changed, although every password and key is generated", async () => {
        const r = await diff("demo");
        assert.equal(r.code, DIFF_EXIT.same, stderr.join(""));
        assert.equal(r.diff, "");
        assert.equal(git(repo, "worktree", "list").trim().split("\n").length, 1, "the temporary worktree is gone");
    });

    it("shows a changed image tag as exactly that one line, exit 1", async () => {
        const file = path.join(repo, "Pulumi.yaml");
        const text = fs.readFileSync(file, "utf8");
        const tag = /backoffice\/frontend:([\w.-]+)@/.exec(text)?.[1];
        assert.ok(tag, "Pulumi.yaml names the frontend's tag");
        fs.writeFileSync(file, text.replace(`backoffice/frontend:${tag}@`, "backoffice/frontend:9.9.9@"));
        try {
            const r = await diff("demo");
            assert.equal(r.code, DIFF_EXIT.changed, stderr.join(""));
            const lines = r.diff.split("\n");
            assert.match(lines[0], /^--- a\/demo\/manifests\.yaml\tHEAD \([0-9a-f]{12}\)$/);
            assert.match(lines[1], /^\+\+\+ b\/demo\/manifests\.yaml\tworking tree$/);
            assert.equal(lines.filter((l) => l.startsWith("@@")).length, 1, r.diff);
            const changed = lines.slice(2).filter((l) => /^[-+]/.test(l));
            assert.deepEqual(changed.map((l) => l.replace(/frontend:[\w.-]+@/, "frontend:TAG@")), [
                changed[0].replace(/frontend:[\w.-]+@/, "frontend:TAG@").replace(/^\+/, "-"),
                changed[0].replace(/frontend:[\w.-]+@/, "frontend:TAG@").replace(/^-/, "+"),
            ], "one line out, the same line in, differing only in the tag");
            assert.match(changed[0], new RegExp(`^-\\s+image: \\S+/backoffice/frontend:${tag.replace(/\./g, "\\.")}@`));
            assert.match(changed[1], /^\+\s+image: \S+\/backoffice\/frontend:9\.9\.9@/);
        } finally {
            fs.writeFileSync(file, text);
        }
    });

    it("shows a bank absent at the revision as all added, every secret masked", async () => {
        const demo = fs.readFileSync(path.join(repo, "stacks", "Pulumi.demo.yaml"), "utf8");
        fs.writeFileSync(path.join(repo, "stacks", "Pulumi.demo2.yaml"), demo.replace(/(dcm-integration:alias:) demo\b/, "$1 demo2"));
        const r = await diff("demo2");
        assert.equal(r.code, DIFF_EXIT.changed, stderr.join(""));
        const body = r.diff.split("\n").slice(2).filter(Boolean);
        assert.match(body[0], /^@@ -0,0 \+1,\d+ @@$/);
        assert.deepEqual(body.slice(1).filter((l) => !l.startsWith("+")), [], "every line added");
        assert.ok(!r.diff.includes(CANARY) && !r.diff.includes(Buffer.from(CANARY).toString("base64").slice(0, 12)), "no generated password, plain or base64");
        assert.ok(body.some((l) => /^\+kind: Secret$/.test(l)) && body.some((l) => l.includes("[secret]")), "the Secrets are there, masked");
        assert.ok(!/PRIVATE KEY/.test(r.diff));
        assert.ok(!stderr.join("").includes(CANARY));
    });

    it("exits 2 naming the problem for a revision that is none, before rendering", async () => {
        const r = await diff("demo", "no-such-revision");
        assert.equal(r.code, DIFF_EXIT.usage);
        assert.match(stderr.at(-1) ?? "", /--diff: 'no-such-revision' is not a commit/);
    });
});
