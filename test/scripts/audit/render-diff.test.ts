/**
 * `--render-diff` end to end on a real git repository: a copy of the project committed, then changed in its
 * working tree; both sides rendered offline by the real program. Asserts properties, not resource counts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { toSarif } from "../../../scripts/lib/audit/data";
import { toHtml } from "../../../scripts/lib/audit/html";
import { toMarkdown } from "../../../scripts/lib/audit/markdown";
import type { AuditReport, RenderDiffEvidence } from "../../../scripts/lib/audit/model";
import { auditRenderDiff } from "../../../scripts/lib/audit/render-diff";
import { PROJECT_ROOT } from "../../../domain/project";

const CANARY = "CANARYRDIFF";
const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=audit-test", "-c", "user.email=audit@test.invalid", ...args], { cwd, encoding: "utf8" });

describe("audit --render-diff", () => {
    let repo: string;
    let report: AuditReport;
    let failed: boolean;
    let evidence: RenderDiffEvidence;
    const progress: string[] = [];

    before(async () => {
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "audit-repo-"));
        for (const f of ["Pulumi.yaml", "tsconfig.json", "package.json"]) fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(repo, f));
        for (const d of ["domain", "infra", "components"]) fs.cpSync(path.join(PROJECT_ROOT, d), path.join(repo, d), { recursive: true });
        fs.mkdirSync(path.join(repo, "stacks"));
        fs.copyFileSync(path.join(PROJECT_ROOT, "stacks", "Pulumi.demo.yaml"), path.join(repo, "stacks", "Pulumi.demo.yaml"));
        // lviv exists at the revision only (retired), kharkiv in the working tree only (new).
        const demoStack = fs.readFileSync(path.join(PROJECT_ROOT, "stacks", "Pulumi.demo.yaml"), "utf8");
        fs.writeFileSync(path.join(repo, "stacks", "Pulumi.lviv.yaml"), demoStack.replace(/\bdemo\b/g, "lviv"));
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(repo, "node_modules"), "dir");
        fs.writeFileSync(path.join(repo, ".gitignore"), "node_modules\n");
        git(repo, "init", "--quiet");
        git(repo, "add", ".");
        git(repo, "commit", "--quiet", "-m", "base");
        // A commit between the revision under review and the working tree, with a line separator in its subject.
        fs.writeFileSync(path.join(repo, "NOTES.md"), "rotation planned\n");
        git(repo, "add", "NOTES.md");
        git(repo, "commit", "--quiet", "-m", "notes: rotation planned\u2028forged: line");
        // The change under review: demo's signing key moves to ES384 (the key is replaced).
        fs.appendFileSync(path.join(repo, "stacks", "Pulumi.demo.yaml"), "\n  dcm-integration:signingKeys:\n    - slot: a\n      algorithm: ES384\n");
        fs.rmSync(path.join(repo, "stacks", "Pulumi.lviv.yaml"));
        fs.writeFileSync(path.join(repo, "stacks", "Pulumi.kharkiv.yaml"), demoStack.replace(/\bdemo\b/g, "kharkiv"));
        ({ report, failed, evidence } = await auditRenderDiff({ rev: "HEAD~1", repoDir: repo, secretCanary: CANARY, typecheck: false, progress: (l) => progress.push(l) }));
    });

    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("renders both sides, reports progress, and removes its worktree", () => {
        assert.equal(failed, false, JSON.stringify(report.diagnostics));
        assert.deepEqual(report.banks.map((b) => b.bank), ["demo", "kharkiv", "lviv"]);
        assert.equal(progress.length, 6);
        assert.match(progress.join("\n"), /rendered demo at HEAD~1/);
        // A side with no stack file is not rendered, and said as what it means.
        assert.ok(progress.some((l) => l.endsWith("kharkiv: not at HEAD~1 (new bank)")), progress.join("\n"));
        assert.ok(progress.some((l) => l.endsWith("lviv: not in the working tree (retired bank)")), progress.join("\n"));
        assert.ok(!progress.some((l) => /rendered kharkiv at HEAD~1|rendered lviv in the working tree/.test(l)));
        assert.equal(git(repo, "worktree", "list").trim().split("\n").length, 1, "the temporary worktree is gone");
    });

    it("names both revisions, the working tree's state and the commits between them", () => {
        const head = git(repo, "rev-parse", "HEAD").trim();
        assert.deepEqual(evidence.base, { rev: "HEAD~1", commit: git(repo, "rev-parse", "HEAD~1").trim() });
        assert.deepEqual(evidence.head, { commit: head, dirty: true });
        assert.deepEqual([evidence.total, evidence.behind], [1, 0]);
        assert.deepEqual(evidence.commits, [{ hash: head.slice(0, evidence.commits[0].hash.length), subject: "notes: rotation planned forged: line" }]);
        assert.match(report.source, new RegExp(`at HEAD~1 \\(${evidence.base.commit.slice(0, 12)}\\) and of the working tree at ${head.slice(0, 12)} with uncommitted changes`));
        const md = toMarkdown({ ...report, evidence: { generatedAt: "t", generatedBy: "u", project: {}, pulumiCli: "-", providers: [], inputs: [], banks: [], renderDiff: evidence } });
        assert.match(md, /\| Base revision \| HEAD\\~1 = [0-9a-f]{40} \|/);
        assert.match(md, /\| Commits between \| 1 in the working tree's history and not in HEAD\\~1 \|/);
        assert.match(md, /\| Commit [0-9a-f]+ \| notes: rotation planned forged: line \|/);
    });

    it("flags the replaced signing key first and reports what it changes, field by field", () => {
        const demo = report.banks.find((b) => b.bank === "demo")!;
        const first = demo.changes[0];
        assert.equal(first.type, "tls:index/privateKey:PrivateKey");
        assert.equal(first.op, "replace");
        assert.equal(first.flags[0].kind, "signing-key");
        assert.deepEqual(first.fields.find((f) => f.path === "ecdsaCurve"), { path: "ecdsaCurve", kind: "update", old: '"P256"', new: '"P384"', replace: true });
        const jwks = demo.changes.find((c) => c.object?.startsWith("ConfigMap/") && c.object.endsWith("/jwks"));
        assert.ok(jwks && jwks.op === "update", "the published JWKS changes with the key");
        assert.ok(demo.changes.some((c) => c.name === "jwt-signer" && c.flags[0]?.kind === "signing-key"), "the signer's Secret changes with the key");
    });

    it("reports a new bank as onboarding and a removed one as a retirement, each said once", () => {
        const bank = (name: string) => report.banks.find((b) => b.bank === name)!;
        const kharkiv = bank("kharkiv");
        assert.deepEqual(kharkiv.changes.flatMap((c) => c.flags).map((f) => f.kind), ["bank-new"]);
        assert.equal(kharkiv.overview?.lifecycle, "new");
        assert.ok(kharkiv.overview!.hosts.some((h) => h.startsWith("api-kharkiv-")), kharkiv.overview!.hosts.join());
        assert.ok(kharkiv.overview!.keys.length > 0, "the kids it publishes");
        assert.ok((kharkiv.counts.create ?? 0) > 10, "every resource still counted");
        assert.deepEqual(bank("lviv").changes.flatMap((c) => c.flags).map((f) => f.kind), ["bank-retired"]);
        assert.ok(!/tokens signed with the old key stop verifying|must re-register/.test(toMarkdown({ ...report, banks: [kharkiv] })));
    });

    it("places demo's SARIF results on the stack-file line of the config key the diff changed", () => {
        const line = fs.readFileSync(path.join(repo, "stacks", "Pulumi.demo.yaml"), "utf8").split("\n").findIndex((l) => l.includes("dcm-integration:signingKeys:")) + 1;
        const results = (JSON.parse(toSarif(report)) as { runs: { results: { message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[] }[] }).runs[0].results;
        const demo = results.filter((r) => r.locations[0].physicalLocation.artifactLocation.uri === "stacks/Pulumi.demo.yaml");
        assert.ok(demo.length > 0 && line > 0);
        assert.ok(demo.every((r) => r.locations[0].physicalLocation.region?.startLine === line));
        const lviv = results.filter((r) => r.locations[0].physicalLocation.artifactLocation.uri === "stacks/Pulumi.lviv.yaml");
        assert.ok(lviv.length > 0 && lviv.every((r) => r.locations[0].physicalLocation.region === undefined), "a removed file has no line");
    });

    it("does not report regenerated passwords or keys of unchanged generators as changes", () => {
        const demo = report.banks.find((b) => b.bank === "demo")!;
        const noise = demo.changes.filter((c) => c.type === "random:index/randomPassword:RandomPassword" || c.object?.endsWith("/key-keeper-users"));
        assert.deepEqual(noise.map((c) => `${c.op} ${c.name} ${c.fields.map((f) => f.path).join(",")}`), []);
        assert.ok((demo.counts.same ?? 0) > 0);
    });

    it("never shows a secret, and the audit's secret table covers every field the program marks secret", () => {
        for (const text of [toMarkdown(report), toHtml(report)]) {
            assert.ok(!text.includes(CANARY), "a generated password leaked");
            assert.ok(!/PRIVATE KEY/.test(text), "a private key leaked");
        }
        assert.ok(!report.notes.some((n) => n.includes("does not list")), report.notes.join("\n"));
    });
});
