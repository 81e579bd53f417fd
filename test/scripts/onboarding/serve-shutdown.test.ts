/**
 * `npm run serve` as a process: on SIGTERM it exits once its grace period is over, whatever its jobs do,
 * and takes its job processes with it.
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { automationBody, tempProject } from "../../../support/onboarding/fixtures";
import { serveLogs } from "../../../support/onboarding/serve-logs";
import { PROJECT_ROOT } from "../../../domain/project";

const TOKEN = "serve-shutdown-token-31f0";

const alive = (pid: number): boolean => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

describe("npm run serve shutdown", () => {
    const temp = tempProject();
    let serve: ChildProcess | undefined;
    let jobPid: number | undefined;
    after(() => {
        // Whatever the outcome, nothing this test started outlives it.
        if (serve && serve.exitCode === null) serve.kill("SIGKILL");
        if (jobPid && alive(jobPid)) process.kill(jobPid, "SIGKILL");
        temp.cleanup();
    });

    it("exits within its grace period with a job that never ends, and kills the job's process", { timeout: 90_000 }, async () => {
        const mapping = path.join(temp.dir, "jira-mapping.yaml");
        fs.writeFileSync(mapping, fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
        const record = path.join(temp.dir, "job.json");
        const env: NodeJS.ProcessEnv = { ...process.env, ONBOARDING_TOKEN: TOKEN, TEST_JOB_HANG: "1", TEST_JOB_RECORD: record };
        for (const k of ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_WEBHOOK_SECRET"]) delete env[k];
        serve = spawn(process.execPath, [
            "--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "scripts", "serve.ts"),
            "--port", "0", "--project", temp.dir, "--mapping", mapping, "--grace", "1",
            "--backend-module", path.join(PROJECT_ROOT, "support", "onboarding", "job-backend.ts"),
        ], { cwd: PROJECT_ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
        const { logs, listening } = serveLogs(serve);
        const exited = new Promise<number | null>((resolve) => serve!.once("exit", (code) => resolve(code)));
        const port = await listening;

        const res = await fetch(`http://127.0.0.1:${port}/jira`, {
            method: "POST", headers: { "content-type": "application/json", "x-onboarding-token": TOKEN }, body: JSON.stringify(automationBody("DCMOPS-701")),
        });
        assert.equal(res.status, 202);
        for (let i = 0; i < 600 && !fs.existsSync(record); i++) await new Promise((r) => setTimeout(r, 100));
        jobPid = (JSON.parse(fs.readFileSync(record, "utf8")) as { pid: number }).pid;
        assert.ok(alive(jobPid), "the job is running");

        serve.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([exited, new Promise<"still running">((r) => { timer = setTimeout(() => r("still running"), 20_000); })]);
        clearTimeout(timer);
        assert.equal(code, 1, "exit code 1: a job was still running at the end of the grace period");
        for (let i = 0; i < 50 && alive(jobPid); i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(!alive(jobPid), "the job's process was killed with the receiver");
        assert.ok(logs.some((l) => l.msg === "jobs still running at the end of the grace period were killed; their stacks may be locked (pulumi cancel)"));
    });
});
