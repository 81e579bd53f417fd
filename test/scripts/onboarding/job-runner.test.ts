/** A job in its own lower-priority process: the result comes back over IPC, the comment goes to Jira. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { plainText } from "../../../scripts/lib/jira/adf";
import { killJobs, runJobInChild } from "../../../scripts/lib/onboarding/job-runner";
import { loadMapping } from "../../../scripts/lib/onboarding/mapping";
import { parseDelivery } from "../../../scripts/lib/onboarding/payload";
import { FakeJira, startFakeJira } from "../../../support/fake-jira-server";
import { automationBody, tempProject } from "../../../support/onboarding/fixtures";
import { PROJECT_ROOT } from "../../../domain/project";
import { precheck, PreparedOnboarding } from "../../../scripts/lib/onboarding/pipeline";

const BACKEND = path.join(PROJECT_ROOT, "support", "onboarding", "job-backend.ts");

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

    /** A delivery as the receiver's precheck prepares it (the job never validates it again). */
    const prepared = (key: string, bank: Parameters<typeof automationBody>[1] = {}, mappingFile = path.join(PROJECT_ROOT, "jira-mapping.yaml")): PreparedOnboarding => {
        const parsed = parseDelivery(automationBody(key, bank));
        assert.ok(parsed.ok);
        const pre = precheck(parsed.delivery, { project: temp.project, mapping: loadMapping(mappingFile) });
        assert.ok(pre.ok, JSON.stringify(pre));
        return pre.prepared;
    };

    it("runs the prepared onboarding in a child and returns its result; the child comments with credentials from the environment", async () => {
        const result = await runJobInChild(prepared("DCMOPS-401", { alias: "lutsk" }), { projectDir: temp.dir, mappingFile: path.join(PROJECT_ROOT, "jira-mapping.yaml"), workspacesDir: path.join(temp.dir, "ws"), skipChecks: true });
        assert.equal(result.status, "needs-secrets", JSON.stringify(result));
        assert.equal(result.file, "created");
        assert.ok(fs.existsSync(path.join(temp.dir, "stacks", "Pulumi.lutsk.yaml")));
        const comments = jira.comments();
        assert.equal(comments.length, 1);
        assert.equal(comments[0].path, "/rest/api/3/issue/DCMOPS-401/comment");
        assert.match(plainText(comments[0].body.body), /waiting for its secrets/);
    });

    it("gives the job an explicit environment without the receiver's secrets", async () => {
        const record = path.join(temp.dir, "job-env.json");
        const mapping = path.join(temp.dir, "dev-mapping.yaml");
        fs.writeFileSync(mapping, fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
        Object.assign(process.env, { ONBOARDING_TOKEN: "receiver-token", JIRA_WEBHOOK_SECRET: "receiver-secret", TEST_JOB_RECORD: record });
        try {
            const result = await runJobInChild(prepared("DCMOPS-403", { alias: "kharkiv" }, mapping), { projectDir: temp.dir, mappingFile: mapping, workspacesDir: path.join(temp.dir, "ws"), skipChecks: true, backendModule: BACKEND });
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
        const job = prepared("DCMOPS-404", { alias: "rivne" });
        const broken = { ...job, delivery: { ...job.delivery, fields: { customfield_19999: deep } } };
        await assert.rejects(runJobInChild(broken, { projectDir: temp.dir, mappingFile: path.join(PROJECT_ROOT, "jira-mapping.yaml"), workspacesDir: path.join(temp.dir, "ws") }),
            /the job could not be handed to its process/);
        assert.equal(await killJobs(), 0, "no job process is left");
    });

    it("rejects when the job process ends without a result", async () => {
        await assert.rejects(runJobInChild(prepared("DCMOPS-402", { alias: "sumy" }), { projectDir: path.join(temp.dir, "missing"), mappingFile: path.join(PROJECT_ROOT, "jira-mapping.yaml"), workspacesDir: path.join(temp.dir, "ws") }),
            /the job process ended without a result \(exit code 1\)/);
    });
});
