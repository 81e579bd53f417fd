/**
 * `npm run serve -- --offline` as a process: a Jira admin tries the receiver on a laptop, with no Pulumi CLI.
 * A delivery is acknowledged, its job validates, writes the stack file and previews with the offline render,
 * all in a trial project under the OS temp directory: the repository's stacks/ and .pulumi/onboarding/ stay as they were.
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { recordedTicket } from "../../../scripts/lib/onboarding/stack-file";
import { signBody } from "../../../scripts/lib/onboarding/server";
import { automationBody, tempProject, webhookBody } from "../../../support/onboarding/fixtures";
import { serveLogs } from "../../../support/onboarding/serve-logs";
import { PROJECT_ROOT } from "../../../domain/project";

const TOKEN = "serve-offline-token-8c2d";
const SERVE = ["--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "scripts", "serve.ts")];

/** The environment of a laptop: no Jira credentials, no receiver secrets, no pulumi on PATH, temp files in `tmp`. */
function laptopEnv(tmp: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, ...extra };
    for (const k of ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_WEBHOOK_SECRET", "ONBOARDING_TOKEN"]) if (!(k in extra)) delete env[k];
    env.PATH = (env.PATH ?? "").split(path.delimiter).filter((d) => !fs.existsSync(path.join(d, "pulumi"))).join(path.delimiter);
    return env;
}

/** Every file under `dir`, recursively, with its size and modification time ([] when it does not exist). */
function listing(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return (fs.readdirSync(dir, { recursive: true }) as string[]).sort().map((f) => {
        const s = fs.statSync(path.join(dir, f));
        return `${f} ${s.size} ${s.mtimeMs}`;
    });
}

describe("npm run serve -- --offline", () => {
    const temp = tempProject([]);
    let serve: ChildProcess | undefined;
    after(() => {
        if (serve && serve.exitCode === null) serve.kill("SIGKILL");
        temp.cleanup();
    });

    it("previews a delivered bank with the offline render in a trial project, leaving the repository's stacks/ and state untouched", { timeout: 180_000 }, async () => {
        const mapping = path.join(temp.dir, "jira-mapping.yaml");
        fs.writeFileSync(mapping, fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
        const tmp = fs.mkdtempSync(path.join(temp.dir, "tmp-"));
        const real = (): [string[], string[], boolean] => [listing(path.join(PROJECT_ROOT, "stacks")), listing(path.join(PROJECT_ROOT, ".pulumi", "onboarding")), fs.existsSync(path.join(PROJECT_ROOT, ".pulumi", "workspaces", "poltava"))];
        const before = real();
        let logs: Record<string, unknown>[] = [];
        try {
            // No --project: the default for --offline is the trial project.
            serve = spawn(process.execPath, [...SERVE, "--port", "0", "--mapping", mapping, "--grace", "1", "--offline"],
                { cwd: PROJECT_ROOT, env: laptopEnv(tmp, { ONBOARDING_TOKEN: TOKEN }), stdio: ["ignore", "ignore", "pipe"] });
            const started = serveLogs(serve);
            logs = started.logs;
            const port = await started.listening;
            const trialDir = logs.find((l) => l.msg === "trial project")?.project as string;
            assert.ok(trialDir && path.dirname(trialDir) === tmp, `the log names the trial project under the temp directory: ${JSON.stringify(logs)}`);
            const headers = { "content-type": "application/json", "x-onboarding-token": TOKEN };
            const res = await fetch(`http://127.0.0.1:${port}/jira`, { method: "POST", headers: { ...headers, "x-atlassian-webhook-identifier": "trial-delivery-1" }, body: JSON.stringify(automationBody("DCMOPS-801", { alias: "poltava" })) });
            assert.equal(res.status, 202);
            const ack = (await res.json()) as { status: string; job: string };
            assert.ok(["queued", "running"].includes(ack.status), `status '${ack.status}' is the job's state word, not a path`);
            let job: { state: string; result?: { status: string } } = { state: "queued" };
            for (let i = 0; i < 1500 && ["queued", "running"].includes(job.state); i++) {
                await new Promise((r) => setTimeout(r, 100));
                job = (await (await fetch(`http://127.0.0.1:${port}${ack.job}`, { headers })).json()) as typeof job;
            }
            assert.equal(job.state, "succeeded", JSON.stringify(job));
            assert.equal(job.result?.status, "previewed");
            assert.deepEqual(real(), before, "the repository's stacks/, .pulumi/onboarding/ and workspaces are as they were");
            assert.equal(recordedTicket(fs.readFileSync(path.join(trialDir, "stacks", "Pulumi.poltava.yaml"), "utf8")), "DCMOPS-801");
            assert.ok(fs.existsSync(path.join(trialDir, ".pulumi", "onboarding", "deliveries.jsonl")), "the receiver's state is the trial's");
            assert.ok(fs.existsSync(path.join(trialDir, "stacks", "Pulumi.demo.yaml")), "the trial starts with the repository's banks");
            serve.kill("SIGTERM");
            await new Promise((r) => serve!.once("exit", r));
            assert.deepEqual(real(), before, "and after the receiver stopped");
        } finally {
            // Were the trial to leak into the repository, the leak must not outlive the test.
            if (!before[0].some((f) => f.startsWith("Pulumi.poltava.yaml "))) fs.rmSync(path.join(PROJECT_ROOT, "stacks", "Pulumi.poltava.yaml"), { force: true });
            if (!before[2]) fs.rmSync(path.join(PROJECT_ROOT, ".pulumi", "workspaces", "poltava"), { recursive: true, force: true });
        }
    });

    it("without ONBOARDING_TOKEN and JIRA_WEBHOOK_SECRET: names both and how a trial sets one, exit 2, nothing written", async () => {
        const tmp = fs.mkdtempSync(path.join(temp.dir, "tmp-"));
        const child = spawn(process.execPath, [...SERVE, "--port", "0", "--offline"], { cwd: PROJECT_ROOT, env: laptopEnv(tmp), stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr!.on("data", (d) => { stderr += d; });
        assert.equal(await new Promise((r) => child.once("exit", r)), 2);
        assert.match(stderr, /ONBOARDING_TOKEN/);
        assert.match(stderr, /JIRA_WEBHOOK_SECRET/);
        assert.match(stderr, /For a trial.*ONBOARDING_TOKEN=\S+ npm run serve -- --offline.*X-Onboarding-Token: /);
        // (ts-node keeps its compile cache there too.)
        assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith("dcm-integration-trial-")), [], "no trial project is made before the usage is right");
    });

    it("refuses --offline together with --backend-module (exit 2)", async () => {
        const child = spawn(process.execPath, [...SERVE, "--offline", "--backend-module", "x.js"],
            { cwd: PROJECT_ROOT, env: { ...process.env, ONBOARDING_TOKEN: TOKEN }, stdio: "ignore" });
        assert.equal(await new Promise((r) => child.once("exit", r)), 2);
    });
});

describe("npm run serve -- --max-age N", () => {
    const temp = tempProject([]);
    const SECRET = "serve-max-age-secret-41b0";
    let serve: ChildProcess | undefined;
    after(() => {
        if (serve && serve.exitCode === null) serve.kill("SIGKILL");
        temp.cleanup();
    });

    it("refuses a signed delivery older than N seconds, and lets a younger one through to validation", { timeout: 60_000 }, async () => {
        const tmp = fs.mkdtempSync(path.join(temp.dir, "tmp-"));
        serve = spawn(process.execPath, [...SERVE, "--port", "0", "--grace", "1", "--offline", "--max-age", "10"],
            { cwd: PROJECT_ROOT, env: laptopEnv(tmp, { JIRA_WEBHOOK_SECRET: SECRET }), stdio: ["ignore", "ignore", "pipe"] });
        const started = serveLogs(serve);
        const port = await started.listening;
        const send = (ageMs: number, id: string) => {
            // Invalid data (the alias), so a delivery inside the window ends at validation (422), before any job.
            const raw = JSON.stringify(webhookBody("DCMOPS-811", { alias: "Bad_Alias" }, Date.now() - ageMs));
            return fetch(`http://127.0.0.1:${port}/jira`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature": signBody(SECRET, raw), "x-atlassian-webhook-identifier": id }, body: raw });
        };
        // 30 s old: inside the default window of 300 s, outside --max-age 10.
        const old = await send(30_000, "max-age-1");
        assert.equal(old.status, 409);
        assert.match(((await old.json()) as { error: string }).error, /timestamp is 30 s old; deliveries more than 10 s old or ahead are refused as replays/);
        const young = await send(3_000, "max-age-2");
        assert.equal(young.status, 422, "inside the window: validated (and refused for its data)");
        serve.kill("SIGTERM");
        await new Promise((r) => serve!.once("exit", r));
    });
});
