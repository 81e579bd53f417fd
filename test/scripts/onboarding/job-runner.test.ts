/** A job in its own lower-priority process: the result comes back over IPC, the comment goes to Jira. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { plainText } from "../../../scripts/lib/jira/adf";
import { runJobInChild } from "../../../scripts/lib/onboarding/job-runner";
import { parseDelivery } from "../../../scripts/lib/onboarding/payload";
import { FakeJira, startFakeJira } from "../jira/fake-jira-server";
import { automationBody, ROOT, tempProject } from "./fixtures";

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
        const result = await runJobInChild(parsed.delivery, { projectDir: temp.dir, mappingFile: path.join(ROOT, "jira-mapping.yaml"), workspacesDir: path.join(temp.dir, "ws"), skipChecks: true });
        assert.equal(result.status, "invalid");
        assert.match(result.problems.join("\n"), /Jira field 'Bank alias \(customfield_10201\)' -> dcm-integration:alias: must be a DNS label/);
        assert.deepEqual(temp.snapshot(), before);
        const comments = jira.comments();
        assert.equal(comments.length, 1);
        assert.equal(comments[0].path, "/rest/api/3/issue/DCMOPS-401/comment");
        assert.match(plainText(comments[0].body.body), /Onboarding data is invalid/);
    });

    it("rejects when the job process ends without a result", async () => {
        const parsed = parseDelivery(automationBody("DCMOPS-402"));
        assert.ok(parsed.ok);
        await assert.rejects(runJobInChild(parsed.delivery, { projectDir: path.join(temp.dir, "missing"), mappingFile: path.join(ROOT, "jira-mapping.yaml"), workspacesDir: path.join(temp.dir, "ws") }),
            /the job process ended without a result \(exit code 1\)/);
    });
});
