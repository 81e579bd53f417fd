/** A job in its own lower-priority process: the result comes back over IPC, the comment goes to Jira. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { plainText } from "../../../scripts/lib/jira/adf";
import { killJobs, runJobInChild } from "../../../scripts/lib/onboarding/job-runner";
import { parseDelivery } from "../../../scripts/lib/onboarding/payload";
import { FakeJira, startFakeJira } from "../../../support/fake-jira-server";
import { automationBody, tempProject } from "../../../support/onboarding/fixtures";
import { PROJECT_ROOT } from "../../../domain/project";

const BACKEND = path.join(__dirname, "support", "job-backend.ts");

describe("runJobInChild", () => {
    const temp = tempProject();
    let jira: FakeJira;
    const saved = { ...process.env };
    before(async () => {
        jira = await startFakeJira("devops@dcm.example", "child-token");
        Object.assign(process.env, { JIRA_BASE_URL: jira.url, JIRA_EMAIL: "devops@dcm.example", JIRA_API_TOKEN: "child-token" });
    });
    after(async () => {
        for (const k of ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN"]) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
        await jira.close();
        temp.cleanup();
    });

    it("runs the onboarding in a child and returns its result; the child comments with credentials from the environment", async () => {
        const parsed = parseDelivery(automationBody("DCMOPS-401", { alias: "Lviv Bank" }));
        assert.ok(parsed.ok);
        const before = temp.snapshot();
        const result = await runJobInChild(parsed.delivery, { projectDir: temp.dir, mappingFile: path.join(PROJECT_ROOT, "jira-mapping.yaml"), workspacesDir: path.join(temp.dir, "ws"), skipChecks: true });
        assert.equal(result.status, "invalid");
        assert.match(result.problems.join("\n"), /Jira field 'Bank alias \(customfield_10201\)' -> dcm-integration:alias: must be a DNS label/);
        assert.deepEqual(temp.snapshot(), before);
        const comments = jira.comments();
        assert.equal(comments.length, 1);
        assert.equal(comments[0].path, "/rest/api/3/issue/DCMOPS-401/comment");
        assert.match(plainText(comments[0].body.body), /Onboarding data is invalid/);
    });

    it("gives the job an explicit environment without the receiver's secrets", async () => {
        const record = path.join(temp.dir, "job-env.json");
        const mapping = path.join(temp.dir, "dev-mapping.yaml");
        fs.writeFileSync(mapping, fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n"));
        Object.assign(process.env, { ONBOARDING_TOKEN: "receiver-token", JIRA_WEBHOOK_SECRET: "receiver-secret", TEST_JOB_RECORD: record });
        try {
            const parsed = parseDelivery(automationBody("DCMOPS-403", { alias: "kharkiv" }));
            assert.ok(parsed.ok);
            const result = await runJobInChild(parsed.delivery, { projectDir: temp.dir, mappingFile: mapping, workspacesDir: path.join(temp.dir, "ws"), skipChecks: true, backendModule: BACKEND });
            assert.equal(result.status, "failed", JSON.stringify(result));
        } finally {
            for (const k of ["ONBOARDING_TOKEN", "JIRA_WEBHOOK_SECRET", "TEST_JOB_RECORD"]) delete process.env[k];
        }
        const env = (JSON.parse(fs.readFileSync(record, "utf8")) as { env: string[] }).env;
        assert.ok(env.includes("JIRA_API_TOKEN") && env.includes("PATH"), "what the job needs is passed");
        assert.ok(!env.includes("ONBOARDING_TOKEN") && !env.includes("JIRA_WEBHOOK_SECRET"), env.join(","));
    });

    it("fails the job, and ends its process, when the delivery cannot be handed over", async () => {
        let deep: unknown = "x";
        for (let i = 0; i < 50_000; i++) deep = [deep];
        const delivery = { source: "automation" as const, issueKey: "DCMOPS-404", fields: { customfield_19999: deep } };
        await assert.rejects(runJobInChild(delivery, { projectDir: temp.dir, mappingFile: path.join(PROJECT_ROOT, "jira-mapping.yaml"), workspacesDir: path.join(temp.dir, "ws") }),
            /the job could not be handed to its process/);
        assert.equal(await killJobs(), 0, "no job process is left");
    });

    it("rejects when the job process ends without a result", async () => {
        const parsed = parseDelivery(automationBody("DCMOPS-402"));
        assert.ok(parsed.ok);
        await assert.rejects(runJobInChild(parsed.delivery, { projectDir: path.join(temp.dir, "missing"), mappingFile: path.join(PROJECT_ROOT, "jira-mapping.yaml"), workspacesDir: path.join(temp.dir, "ws") }),
            /the job process ended without a result \(exit code 1\)/);
    });
});
