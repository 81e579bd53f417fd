/**
 * `npm run serve -- --offline` as a process: a Jira admin tries the receiver on a laptop, with no Pulumi CLI.
 * A delivery is acknowledged, its job validates, writes the stack file and previews with the offline render.
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { after, describe, it } from "node:test";
import { recordedTicket } from "../../../scripts/lib/onboarding/stack-file";
import { automationBody, ROOT, tempProject } from "./fixtures";

const TOKEN = "serve-offline-token-8c2d";

describe("npm run serve -- --offline", () => {
    const temp = tempProject([]);
    let serve: ChildProcess | undefined;
    after(() => {
        if (serve && serve.exitCode === null) serve.kill("SIGKILL");
        temp.cleanup();
    });

    it("previews a delivered bank with the offline render, and deploys nothing", { timeout: 180_000 }, async () => {
        const mapping = path.join(temp.dir, "jira-mapping.yaml");
        fs.writeFileSync(mapping, fs.readFileSync(path.join(ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n"));
        const env: NodeJS.ProcessEnv = { ...process.env, ONBOARDING_TOKEN: TOKEN };
        for (const k of ["JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_WEBHOOK_SECRET"]) delete env[k];
        // No pulumi on PATH: the offline mode must not need it.
        env.PATH = (env.PATH ?? "").split(path.delimiter).filter((d) => !fs.existsSync(path.join(d, "pulumi"))).join(path.delimiter);
        serve = spawn(process.execPath, [
            "--require", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "serve.ts"),
            "--port", "0", "--project", temp.dir, "--mapping", mapping, "--grace", "1", "--offline",
        ], { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
        const port = await new Promise<number>((resolve, reject) => {
            readline.createInterface({ input: serve!.stderr! }).on("line", (line) => {
                try {
                    const entry = JSON.parse(line) as Record<string, unknown>;
                    if (entry.msg === "listening") resolve(entry.port as number);
                } catch {
                    // Not a log line.
                }
            });
            serve!.once("exit", (code) => reject(new Error(`serve exited early (${code})`)));
        });
        const headers = { "content-type": "application/json", "x-onboarding-token": TOKEN };
        const res = await fetch(`http://127.0.0.1:${port}/jira`, { method: "POST", headers, body: JSON.stringify(automationBody("DCMOPS-801", { alias: "poltava" })) });
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
        assert.equal(recordedTicket(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.poltava.yaml"), "utf8")), "DCMOPS-801");
        serve.kill("SIGTERM");
        await new Promise((r) => serve!.once("exit", r));
    });

    it("refuses --offline together with --backend-module (exit 2)", async () => {
        const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "serve.ts"), "--offline", "--backend-module", "x.js"],
            { cwd: ROOT, env: { ...process.env, ONBOARDING_TOKEN: TOKEN }, stdio: "ignore" });
        assert.equal(await new Promise((r) => child.once("exit", r)), 2);
    });
});
