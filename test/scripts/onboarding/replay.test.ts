/**
 * The receiver against replays and awkward setups: signed timestamps outside the window or older than the
 * last delivery applied, delivery ids and applied timestamps that survive a restart, job status for a
 * webhook-only setup, deep bodies, and a job that fails after its 202.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { plainText } from "../../../scripts/lib/jira/adf";
import { JiraClient } from "../../../scripts/lib/jira/client";
import { AppliedDeliveries } from "../../../scripts/lib/onboarding/delivery-state";
import type { Delivery } from "../../../scripts/lib/onboarding/payload";
import { onboard, OnboardingDeps, OnboardingResult, precheck } from "../../../scripts/lib/onboarding/pipeline";
import { JobQueue } from "../../../scripts/lib/onboarding/queue";
import { createReceiver, Receiver, ReceiverOptions, signBody } from "../../../scripts/lib/onboarding/server";
import type { StackBackend } from "../../../scripts/lib/engine/stack-backend";
import { FakeJira, startFakeJira } from "../../../support/fake-jira-server";
import { automationBody, MAPPING, tempProject, webhookBody } from "../../../support/onboarding/fixtures";

const SECRET = "webhook-secret-replay-5c1d";
const TOKEN = "automation-token-replay-88e0";

describe("the receiver refuses replays and keeps what it must across restarts", () => {
    const temp = tempProject();
    const state = path.join(temp.dir, ".pulumi", "onboarding");
    const applied = new AppliedDeliveries(path.join(state, "applied"));
    // No stack operation is reached: without its secrets a bank's file is written and the job waits for them.
    const noBackend = (): StackBackend => ({ selectOrCreate: () => Promise.reject(new Error("no stack operation in this test")) });
    const deps: OnboardingDeps = { project: temp.project, mapping: MAPPING, workspacesDir: path.join(temp.dir, "ws"), backendFor: noBackend, applied };
    let jira: FakeJira;
    let receiver: Receiver;
    let base: string;
    let queue: JobQueue<OnboardingResult>;
    let received: Delivery[] = [];
    let failJobs = false;

    const start = async (extra: Partial<ReceiverOptions> = {}) => {
        queue = new JobQueue<OnboardingResult>({ concurrency: 2 });
        const client = new JiraClient({ baseUrl: jira.url, email: "devops@dcm.example", apiToken: "jira-token", maxRetries: 0 });
        receiver = createReceiver({
            token: TOKEN, webhookSecret: SECRET, queue, seenFile: path.join(state, "deliveries.jsonl"), applied,
            precheck: (d) => precheck(d, deps),
            onboard: async (d) => {
                received.push(d);
                if (failJobs) throw new Error("the job process ended without a result (SIGKILL)");
                return onboard(d, deps);
            },
            comment: async (ticket, body) => { await client.addComment(ticket, body); },
            ...extra,
        });
        base = `http://127.0.0.1:${(await receiver.listen(0, "127.0.0.1")).port}`;
    };
    const signed = (body: unknown, id?: string) => {
        const raw = typeof body === "string" ? body : JSON.stringify(body);
        return fetch(`${base}/jira`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature": signBody(SECRET, raw), ...(id ? { "x-atlassian-webhook-identifier": id } : {}) }, body: raw });
    };
    const error = async (res: Response) => ((await res.json()) as { error: string }).error;
    const jobOf = async (res: Response) => ((await res.json()) as { jobId: string }).jobId;
    const lviv = { alias: "lviv", displayName: "Lviv Cooperative Bank" };

    before(async () => {
        jira = await startFakeJira("devops@dcm.example", "jira-token");
        await start();
    });
    after(async () => {
        await receiver.close(2_000);
        await jira.close();
        temp.cleanup();
    });

    it("refuses a signed body without a timestamp, or one older or further ahead than the window (409)", async () => {
        const body = webhookBody("DCMOPS-601", lviv);
        delete body.timestamp;
        const none = await signed(body, "r-1");
        assert.equal(none.status, 400);
        assert.match(await error(none), /must carry 'timestamp'/);
        const old = await signed(webhookBody("DCMOPS-601", lviv, Date.now() - 6 * 60_000), "r-2");
        assert.equal(old.status, 409);
        assert.match(await error(old), /timestamp is 36\d s old; deliveries more than 300 s old or ahead are refused as replays/);
        const ahead = await signed(webhookBody("DCMOPS-601", lviv, Date.now() + 10 * 60_000), "r-3");
        assert.equal(ahead.status, 409);
        assert.match(await error(ahead), /ahead of this server's clock/);
        assert.equal(received.length, 0);
    });

    it("refuses a captured delivery sent again with a new identifier once a newer one was applied, also after a restart", async () => {
        const older = webhookBody("DCMOPS-602", { ...lviv, displayName: "Lviv Bank (old name)" }, Date.now() - 60_000);
        const newer = webhookBody("DCMOPS-602", lviv, Date.now() - 30_000);
        const first = await signed(newer, "r-10");
        assert.equal(first.status, 202);
        const done = await queue.wait(await jobOf(first));
        assert.equal(done.result?.status, "needs-secrets", JSON.stringify(done));
        const file = path.join(temp.dir, "stacks", "Pulumi.lviv.yaml");
        const written = fs.readFileSync(file, "utf8");
        assert.deepEqual(applied.get("lviv"), { ticket: "DCMOPS-602", timestamp: newer.timestamp });

        const replay = await signed(older, "r-11");
        assert.equal(replay.status, 409);
        assert.match(await error(replay), /a delivery of DCMOPS-602 sent at .* was applied already; .* refused as a replay/);

        await receiver.close(2_000);
        await start();
        const again = await signed(older, "r-12");
        assert.equal(again.status, 409, "the applied timestamp is on disk");
        const seen = await signed(webhookBody("DCMOPS-602", lviv), "r-10");
        assert.equal(seen.status, 409, "a delivery identifier seen before the restart");
        assert.match(await error(seen), /delivery r-10 was already received \(job [0-9a-f-]{36}\)/);
        assert.equal(fs.readFileSync(file, "utf8"), written, "the bank's data was not rolled back");
    });

    it("a job never applies a delivery older than the last one applied (the receiver's check may have raced)", async () => {
        const file = path.join(temp.dir, "stacks", "Pulumi.lviv.yaml");
        const before = fs.readFileSync(file, "utf8");
        const last = applied.get("lviv")!;
        const d: Delivery = { source: "webhook", issueKey: "DCMOPS-602", fields: { customfield_10201: "lviv", customfield_10202: "Rolled back", customfield_10203: "officer@lvivbank.example", customfield_10204: "https://auth.lvivbank.example/keeper" }, timestamp: last.timestamp - 1 };
        const result = await onboard(d, deps);
        assert.equal(result.status, "stale");
        assert.match(result.problems.join(), /was applied already/);
        assert.equal(fs.readFileSync(file, "utf8"), before);
        const newer = await onboard({ ...d, fields: { ...d.fields, customfield_10202: "Lviv Bank PJSC" }, timestamp: last.timestamp + 1 }, deps);
        assert.equal(newer.status, "needs-secrets");
        assert.match(fs.readFileSync(file, "utf8"), /displayName: "Lviv Bank PJSC"/);
    });

    it("GET /jobs/<id> also accepts the webhook secret's HMAC of the path", async () => {
        const res = await signed(webhookBody("DCMOPS-603", { alias: "odesa", displayName: "Odesa Bank", firstEmployeeEmail: "it@odesa.example", keyKeeperUrl: "https://k.odesa.example" }), "r-20");
        assert.equal(res.status, 202);
        const id = await jobOf(res);
        const jobPath = `/jobs/${id}`;
        const ok = await fetch(`${base}${jobPath}`, { headers: { "x-hub-signature": signBody(SECRET, jobPath) } });
        assert.equal(ok.status, 200);
        assert.equal(((await ok.json()) as { id: string }).id, id);
        const other = await fetch(`${base}${jobPath}`, { headers: { "x-hub-signature": signBody(SECRET, "/jobs/00000000-0000-0000-0000-000000000000") } });
        assert.equal(other.status, 401);
        assert.match(await error(other), /HMAC of the path/);
        await queue.wait(id);
    });

    it("answers 422 to a field nested 50,000 levels deep, and hands the job only the mapped fields", async () => {
        const deep = (n: number, leaf: string) => `${"[".repeat(n)}${leaf}${"]".repeat(n)}`;
        const raw = JSON.stringify(automationBody("DCMOPS-604", { alias: "__ALIAS__" })).replace("\"__ALIAS__\"", deep(50_000, "\"kyiv\""));
        const res = await fetch(`${base}/jira`, { method: "POST", headers: { "content-type": "application/json", "x-onboarding-token": TOKEN }, body: raw });
        assert.equal(res.status, 422);
        assert.match(((await res.json()) as { problems: string[] }).problems.join(), /dcm-integration:alias: is nested deeper than 32 levels/);

        received = [];
        const unmapped = JSON.stringify(automationBody("DCMOPS-605", { alias: "kyiv", displayName: "Kyiv Bank" })).replace("\"fields\":{", `"fields":{"customfield_19999":${deep(50_000, "1")},`);
        const ok = await fetch(`${base}/jira`, { method: "POST", headers: { "content-type": "application/json", "x-onboarding-token": TOKEN }, body: unmapped });
        assert.equal(ok.status, 202);
        await queue.wait(await jobOf(ok));
        assert.equal(received.length, 1);
        assert.deepEqual(Object.keys(received[0].fields).sort(), ["customfield_10201", "customfield_10202", "customfield_10203", "customfield_10204"]);
    });

    it("a job that fails after its 202 is commented on the ticket too", async () => {
        const comments = jira.comments().length;
        failJobs = true;
        const res = await signed(webhookBody("DCMOPS-606", { alias: "poltava", displayName: "Poltava Bank", firstEmployeeEmail: "it@poltava.example", keyKeeperUrl: "https://k.poltava.example" }), "r-30");
        assert.equal(res.status, 202);
        const job = await queue.wait(await jobOf(res));
        failJobs = false;
        assert.equal(job.state, "failed");
        const mine = () => jira.comments().slice(comments).some((c) => c.path.includes("DCMOPS-606"));
        for (let i = 0; i < 200 && !mine(); i++) await new Promise((r) => setTimeout(r, 25));
        const posted = jira.comments().slice(comments).filter((c) => c.path === "/rest/api/3/issue/DCMOPS-606/comment");
        assert.equal(posted.length, 1);
        assert.match(plainText(posted[0].body.body), /Onboarding of 'poltava' failed.*ended without a result/s);
    });
});
