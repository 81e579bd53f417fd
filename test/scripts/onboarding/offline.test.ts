/**
 * `onboard --offline`: the Jira flow on a laptop, without the Pulumi CLI. Validation and the stack file are
 * the real ones; the preview is the offline render of the real program; nothing is deployed.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { after, before, describe, it } from "node:test";
import { main } from "../../../scripts/onboard";
import { OfflineStackBackend } from "../../../scripts/lib/engine/offline-stack-backend";
import { recordedTicket } from "../../../scripts/lib/onboarding/stack-file";
import { prepareTrialProject, trialProjectDir } from "../../../scripts/lib/onboarding/trial";
import { readProject } from "../../../scripts/lib/engine/stack-config";
import { automationBody, tempProject } from "../../../support/onboarding/fixtures";
import { PROJECT_ROOT } from "../../../domain/project";

describe("npm run onboard -- --offline", () => {
    const temp = tempProject([]);
    const devMapping = path.join(temp.dir, "jira-mapping.yaml");
    const output: string[] = [];
    const run = async (body: unknown, ...flags: string[]) => {
        const file = path.join(temp.dir, `delivery-${Math.random().toString(36).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify(body));
        output.length = 0;
        // No backendFor: the command picks its backend from --offline itself, as a Jira admin runs it.
        return main(["--jira", file, "--project", temp.dir, "--workspaces", path.join(temp.dir, "ws"), "--no-comment", ...flags], {
            env: {}, out: (t) => output.push(t), err: (t) => output.push(t),
        });
    };

    before(() => {
        // A demo bank (Kratos on SQLite) needs no secrets, so the offline flow can go as far as the preview.
        const text = fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n");
        fs.writeFileSync(devMapping, text);
    });
    after(() => temp.cleanup());

    it("without --offline on a machine with no Pulumi CLI: one sentence, exit 2, no stack file written", async () => {
        const code = await run(automationBody("DCMOPS-502", { alias: "kherson", displayName: "Kherson Bank" }), "--dry-run", "--mapping", devMapping);
        const text = output.join("");
        assert.equal(code, 2, text);
        assert.match(text, /the Pulumi CLI is not installed \(no `pulumi` on PATH\).*--offline/);
        assert.doesNotMatch(text, /ENOENT|spawn/);
        assert.equal(fs.existsSync(path.join(temp.dir, "stacks", "Pulumi.kherson.yaml")), false);
    });

    it("validates, writes the stack file and previews with the offline render, deploying nothing", async () => {
        const code = await run(automationBody("DCMOPS-501", { alias: "odesa", displayName: "Odesa Bank" }), "--offline", "--mapping", devMapping);
        const text = output.join("");
        assert.equal(code, 0, text);
        assert.match(text, /DCMOPS-501: previewed/);
        assert.match(text, /offline/);
        assert.match(text, /\+ kubernetes:apps\/v1:Deployment /, "the render's resources are listed as the preview");
        assert.equal(recordedTicket(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.odesa.yaml"), "utf8")), "DCMOPS-501");
    });

    it("refuses invalid ticket data offline as online, writing nothing", async () => {
        const before = fs.readdirSync(path.join(temp.dir, "stacks")).sort();
        const code = await run(automationBody("DCMOPS-502", { alias: "Bad_Alias" }), "--offline", "--mapping", devMapping);
        assert.equal(code, 2);
        assert.deepEqual(fs.readdirSync(path.join(temp.dir, "stacks")).sort(), before);
    });

    it("without --project, writes into a trial project and says where; the repository's stacks/ and .pulumi/ stay as they were", async () => {
        const trialDir = path.join(temp.dir, "trial");
        const real = (): [string[], string[], boolean] => [listing(path.join(PROJECT_ROOT, "stacks")), listing(path.join(PROJECT_ROOT, ".pulumi", "onboarding")), fs.existsSync(path.join(PROJECT_ROOT, ".pulumi", "workspaces", "mykolaiv"))];
        const before = real();
        const trial = async (body: unknown) => {
            const file = path.join(temp.dir, `trial-${Math.random().toString(36).slice(2)}.json`);
            fs.writeFileSync(file, JSON.stringify(body));
            output.length = 0;
            // No --project and no --workspaces: a Jira admin's first try, in the repository itself.
            return main(["--jira", file, "--offline", "--no-comment", "--mapping", devMapping], { env: {}, trialDir, out: (t) => output.push(t), err: (t) => output.push(t) });
        };
        try {
            const code = await trial(automationBody("DCMOPS-503", { alias: "mykolaiv", displayName: "Mykolaiv Bank" }));
            const text = output.join("");
            assert.equal(code, 0, text);
            assert.deepEqual(real(), before, "nothing written into the repository");
            const trialFile = path.join(trialDir, "stacks", "Pulumi.mykolaiv.yaml");
            assert.equal(recordedTicket(fs.readFileSync(trialFile, "utf8")), "DCMOPS-503");
            assert.ok(text.includes(`Trial project ${trialDir}:`), text);
            assert.ok(text.includes(`trial stack file: ${trialFile} (the repository's stacks/ is untouched)`), text);
            assert.ok(fs.existsSync(path.join(trialDir, ".pulumi", "workspaces", "mykolaiv", "Pulumi.yaml")), "the workspace is the trial's");
            // The trial holds the repository's banks: an alias a real bank has is refused, as it would be for real.
            assert.equal(await trial(automationBody("DCMOPS-504", { alias: "dnipro" })), 2);
            assert.match(output.join(""), /alias 'dnipro' already belongs to another bank/);
            assert.deepEqual(real(), before);
        } finally {
            // Were the trial to leak into the repository, the leak must not outlive the test.
            if (!before[0].some((f) => f.startsWith("Pulumi.mykolaiv.yaml "))) fs.rmSync(path.join(PROJECT_ROOT, "stacks", "Pulumi.mykolaiv.yaml"), { force: true });
            if (!before[2]) fs.rmSync(path.join(PROJECT_ROOT, ".pulumi", "workspaces", "mykolaiv"), { recursive: true, force: true });
        }
    });

    it("the trial project is outside the repository, one per repository, and refreshed from its stack files", () => {
        const repo = readProject(PROJECT_ROOT);
        const dir = trialProjectDir(repo);
        assert.ok(path.relative(PROJECT_ROOT, dir).startsWith(".."), `${dir} is outside ${PROJECT_ROOT}`);
        assert.equal(trialProjectDir(repo), dir, "the same on every run");
        assert.notEqual(trialProjectDir(temp.project), dir, "another repository has its own");
        const at = path.join(temp.dir, "trial-refresh");
        const first = prepareTrialProject(temp.project, at);
        fs.writeFileSync(path.join(temp.project.stackConfigDir, "Pulumi.sumy.yaml"), "config:\n  dcm-integration:alias: sumy\n");
        fs.writeFileSync(path.join(first.stackConfigDir, "Pulumi.trialbank.yaml"), "config: {}\n");
        const again = prepareTrialProject(temp.project, at);
        assert.equal(again.programDir, temp.project.programDir, "the trial runs the repository's program");
        assert.equal(fs.readFileSync(path.join(again.stackConfigDir, "Pulumi.sumy.yaml"), "utf8"), fs.readFileSync(path.join(temp.project.stackConfigDir, "Pulumi.sumy.yaml"), "utf8"));
        assert.ok(fs.existsSync(path.join(again.stackConfigDir, "Pulumi.trialbank.yaml")), "trial banks stay between runs");
        fs.rmSync(path.join(temp.project.stackConfigDir, "Pulumi.sumy.yaml"));
    });

    it("refuses a bank's stack file holding another bank's secure: value before any stack operation", async () => {
        const dnipro = fs.readFileSync(path.join(PROJECT_ROOT, "stacks", "Pulumi.dnipro.yaml"), "utf8");
        fs.writeFileSync(path.join(temp.dir, "stacks", "Pulumi.dnipro.yaml"), dnipro);
        const body = automationBody("DCMOPS-505", { alias: "rivne", displayName: "Rivne Bank" });
        // A production bank (the repository's mapping, no dev mode): the file is written, then waits for its secrets.
        assert.equal(await run(body, "--offline", "--mapping", path.join(PROJECT_ROOT, "jira-mapping.yaml")), 1, output.join(""));
        assert.match(output.join(""), /needs-secrets/);
        // DevOps pastes dnipro's encrypted settings into rivne's file instead of running pulumi config set.
        const config = (YAML.parse(dnipro) as { config: Record<string, unknown> }).config;
        const pasted = ["kratosDsn", "kratosMigrationDsn", "kratosSmtpUri", "kratosDatabaseCidrs", "kratosSmtpCidrs", "apiServerCidr"].map((k) => {
            const v = config[`dcm-integration:${k}`];
            return Array.isArray(v) ? `  dcm-integration:${k}:\n${v.map((x) => `    - "${String(x)}"`).join("\n")}\n` : `  dcm-integration:${k}:\n    secure: ${(v as { secure: string }).secure}\n`;
        });
        fs.appendFileSync(path.join(temp.dir, "stacks", "Pulumi.rivne.yaml"), pasted.join(""));
        const file = path.join(temp.dir, "delivery-rivne-again.json");
        fs.writeFileSync(file, JSON.stringify(body));
        output.length = 0;
        let backendUsed = false;
        const code = await main(["--jira", file, "--project", temp.dir, "--workspaces", path.join(temp.dir, "ws"), "--no-comment", "--dry-run", "--mapping", path.join(PROJECT_ROOT, "jira-mapping.yaml")], {
            env: {}, out: (t) => output.push(t), err: (t) => output.push(t),
            backendFor: () => { backendUsed = true; throw new Error("no stack operation may run"); },
        });
        const text = output.join("");
        assert.equal(code, 1, text);
        assert.equal(backendUsed, false);
        assert.match(text, /could not read the stack file for stack 'rivne': Invalid configuration for stack 'rivne'/);
        assert.match(text, /Invalid configuration for stack 'rivne' \(3 problems\)/, "every copied key at once");
        assert.match(text, /dcm-integration:kratosDsn in stacks\/Pulumi\.rivne\.yaml is the same secure: ciphertext as dcm-integration:kratosDsn in stacks\/Pulumi\.dnipro\.yaml/);
    });

    it("never deploys: up is refused with what to run instead", async () => {
        const stack = await new OfflineStackBackend(temp.dir).selectOrCreate("odesa");
        await assert.rejects(stack.up(), /offline mode deploys nothing: run without --offline/);
        assert.deepEqual(await stack.outputs(), {});
    });
});

/** Every file under `dir`, recursively, with its size and modification time ([] when it does not exist). */
function listing(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return (fs.readdirSync(dir, { recursive: true }) as string[]).sort().map((f) => {
        const s = fs.statSync(path.join(dir, f));
        return `${f} ${s.size} ${s.mtimeMs}`;
    });
}
