/** The evidence block: who, when, which commit (and whether dirty), which versions, which inputs, which Jira ticket. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { collectEvidence, jiraBaseUrl, jiraTicketOf, providerVersions } from "../../../scripts/lib/audit/evidence";
import { toHtml } from "../../../scripts/lib/audit/html";
import { toMarkdown } from "../../../scripts/lib/audit/markdown";
import { fixture, reportOf } from "./helpers";

const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=Olena Auditor", "-c", "user.email=olena@dcm.example", ...args], { cwd, encoding: "utf8" });

describe("audit evidence", () => {
    let project: string;

    before(() => {
        project = fs.mkdtempSync(path.join(os.tmpdir(), "audit-evidence-"));
        fs.mkdirSync(path.join(project, "stacks"));
        fs.writeFileSync(path.join(project, "stacks", "Pulumi.dnipro.yaml"), "# jira-ticket: DCMOPS-1042\n# Dnipro Commercial Bank\nconfig:\n  dcm-integration:alias: dnipro\n");
        fs.writeFileSync(path.join(project, "stacks", "Pulumi.demo.yaml"), "config:\n  dcm-integration:alias: demo\n");
        fs.writeFileSync(path.join(project, "package-lock.json"), JSON.stringify({ packages: { "node_modules/@pulumi/kubernetes": { version: "4.34.2" }, "node_modules/@pulumi/tls": { version: "5.6.1\n| forged" } } }));
        git(project, "init", "--quiet");
        git(project, "config", "user.name", "Olena Auditor");
        git(project, "add", ".");
        git(project, "commit", "--quiet", "-m", "banks");
    });

    after(() => fs.rmSync(project, { recursive: true, force: true }));

    const evidence = (env: NodeJS.ProcessEnv = {}) => collectEvidence({
        projectDir: project, banks: ["demo", "dnipro"], previews: [fixture("demo.json"), fixture("dnipro.json")],
        env, now: new Date("2026-11-30T10:00:00Z"), pulumiVersion: () => "v3.248.0",
    });

    it("says who ran it, when, on which commit, and whether the tree was dirty", () => {
        const e = evidence();
        assert.equal(e.generatedAt, "2026-11-30T10:00:00.000Z");
        assert.match(e.generatedBy, /\(git: Olena Auditor/);
        assert.deepEqual(e.project, { commit: git(project, "rev-parse", "HEAD").trim(), dirty: false });
        fs.writeFileSync(path.join(project, "stacks", "Pulumi.demo.yaml"), "config:\n  dcm-integration:alias: demo\n  dcm-integration:displayName: Changed\n");
        try {
            assert.equal(evidence().project.dirty, true);
        } finally {
            git(project, "checkout", "--quiet", "--", "stacks/Pulumi.demo.yaml");
        }
    });

    it("names each input by its SHA-256 and the provider versions the previews ran with", () => {
        const e = evidence();
        assert.deepEqual(e.inputs.map((i) => [path.basename(i.file), i.sha256, i.bank]), [
            ["demo.json", fixture("demo.json").sha256, "demo"], ["dnipro.json", fixture("dnipro.json").sha256, "dnipro"],
        ]);
        const fromPreview = e.providers.filter((p) => p.source === "preview").map((p) => p.name).sort();
        assert.deepEqual(fromPreview, ["kubernetes", "random", "tls"]);
        assert.ok(e.providers.some((p) => p.name === "@pulumi/kubernetes" && p.version === "4.34.2" && p.source === "package-lock.json"));
        assert.ok(!e.providers.some((p) => p.name === "@pulumi/tls"), "a lockfile version that is no version is left out");
        assert.equal(e.pulumiCli, "v3.248.0");
        const urn = "urn:pulumi:demo::dcm-integration::pulumi:providers:kubernetes::default_4_34_2::0e1f";
        assert.deepEqual(providerVersions(project, [{ ...fixture("demo.json"), steps: [{ ...fixture("demo.json").steps[1], provider: urn }] }]).find((p) => p.source === "preview"),
            { name: "kubernetes", version: "4.34.2", source: "preview" });
    });

    it("reads each bank's Jira ticket from its stack file and links it when JIRA_BASE_URL is set", () => {
        assert.equal(jiraTicketOf(project, "dnipro"), "DCMOPS-1042");
        assert.equal(jiraTicketOf(project, "demo"), undefined);
        assert.equal(jiraTicketOf(project, "../etc"), undefined, "a bank name is no path");
        assert.deepEqual(evidence().banks.find((b) => b.bank === "dnipro"), { bank: "dnipro", stackFile: path.join("stacks", "Pulumi.dnipro.yaml"), jiraTicket: "DCMOPS-1042" });
        const linked = evidence({ JIRA_BASE_URL: "https://jira.dcm.example/" }).banks.find((b) => b.bank === "dnipro");
        assert.equal(linked?.jiraUrl, "https://jira.dcm.example/browse/DCMOPS-1042");
        for (const bad of ["javascript:alert(1)", "https://user:pw@jira.dcm.example", "not a url", "https://jira.dcm.example/?q=1"]) assert.equal(jiraBaseUrl(bad), undefined, bad);
    });

    it("shows the evidence in Markdown and HTML, the link only as an escaped http(s) link", () => {
        const report = reportOf("demo.json", "dnipro.json");
        report.evidence = evidence({ JIRA_BASE_URL: "https://jira.dcm.example/a(b)" });
        const md = toMarkdown(report);
        assert.match(md, /## Evidence/);
        assert.match(md, /\| Bank dnipro \| \[DCMOPS-1042\]\(https:\/\/jira\.dcm\.example\/a%28b%29\/browse\/DCMOPS-1042\), Jira DCMOPS-1042/);
        assert.match(md, /\| Input [^|]*demo\.json \| SHA-256 [0-9a-f]{64} \(bank demo\) \|/);
        assert.match(md, /\| Project commit \| [0-9a-f]{40} \(working tree clean\) \|/);
        assert.match(md, /\| Bank demo \| no Jira ticket recorded in stacks\/Pulumi\.demo\.yaml \|/);
        const html = toHtml(report);
        assert.match(html, /<a href="https:\/\/jira\.dcm\.example\/a\(b\)\/browse\/DCMOPS-1042">DCMOPS-1042<\/a>/);
        assert.ok(md.indexOf("## Evidence") < md.indexOf("## Sign-off"));
    });
});
