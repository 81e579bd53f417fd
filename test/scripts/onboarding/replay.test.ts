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
import { TicketReporter } from "../../../scripts/lib/onboarding/comment";
import { ReplayGuard } from "../../../scripts/lib/onboarding/delivery-state";
import type { Delivery } from "../../../scripts/lib/onboarding/payload";
import { onboard, OnboardingDeps, OnboardingResult, precheck, runOnboarding } from "../../../scripts/lib/onboarding/pipeline";
import { JobQueue } from "../../../scripts/lib/onboarding/queue";
import { createReceiver, MAX_JOB_READ_S, Receiver, ReceiverOptions, signBody, signJobRead } from "../../../scripts/lib/onboarding/server";
import type { StackBackend } from "../../../scripts/lib/engine/stack-backend";
import { FakeJira, startFakeJira } from "../../../support/fake-jira-server";
import { automationBody, MAPPING, tempProject, webhookBody } from "../../../support/onboarding/fixtures";

const SECRET = "webhook-secret-replay-5c1d";
const TOKEN = "automation-token-replay-88e0";

describe("the receiver refuses replays and keeps what it must across restarts", () => {
    const temp = tempProject();
    const state = path.join(temp.dir, ".pulumi", "onboarding");
    // The jobs' guard and the receiver's are two instances over one state directory, as serve and its job processes.
    const applied = new ReplayGuard({ stateDir: state });
    // No stack operation is reached: without its secrets a bank's file is written and the job waits for them.
    const noBackend = (): StackBackend => ({ selectOrCreate: () => Promise.reject(new Error("no stack operation in this test")) });
    const deps: OnboardingDeps = { project: temp.project, mapping: MAPPING, workspacesDir: path.join(temp.dir, "ws"), backendFor: noBackend, replay: applied };
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
            token: TOKEN, webhookSecret: SECRET, queue, replay: new ReplayGuard({ stateDir: state }),
            precheck: (d) => precheck(d, deps),
            onboard: async (p) => {
                received.push(p.delivery);
                if (failJobs) throw new Error("the job process ended without a result (SIGKILL)");
                return runOnboarding(p, deps);
            },
            reporter: new TicketReporter(client, MAPPING.transitions),
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
        assert.deepEqual(applied.lastApplied("lviv"), { ticket: "DCMOPS-602", timestamp: newer.timestamp });

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
        const last = applied.lastApplied("lviv")!;
        const d: Delivery = { source: "webhook", issueKey: "DCMOPS-602", fields: { customfield_10201: "lviv", customfield_10202: "Rolled back", customfield_10203: "officer@lvivbank.example", customfield_10204: "https://auth.lvivbank.example/keeper" }, timestamp: last.timestamp - 1, version: last.timestamp - 1 };
        const result = await onboard(d, deps);
        assert.equal(result.status, "stale");
        assert.match(result.problems.join(), /was applied already/);
        assert.equal(fs.readFileSync(file, "utf8"), before);
        const newer = await onboard({ ...d, fields: { ...d.fields, customfield_10202: "Lviv Bank PJSC" }, timestamp: last.timestamp + 1, version: last.timestamp + 1 }, deps);
        assert.equal(newer.status, "needs-secrets");
        assert.match(fs.readFileSync(file, "utf8"), /displayName: "Lviv Bank PJSC"/);
    });

    it("refuses a replayed Automation delivery (shared token, no HMAC): the same body again, or one not newer than the ticket's last applied", async () => {
        const automation = (body: unknown) => fetch(`${base}/jira`, { method: "POST", headers: { "content-type": "application/json", "x-onboarding-token": TOKEN }, body: JSON.stringify(body) });
        const bank = { alias: "vinnytsia", displayName: "Vinnytsia Bank", firstEmployeeEmail: "it@vinnytsia.example", keyKeeperUrl: "https://k.vinnytsia.example" };
        const edited = Date.now() - 10_000;
        const body = automationBody("DCMOPS-607", bank, edited);
        received = [];
        const first = await automation(body);
        assert.equal(first.status, 202);
        await queue.wait(await jobOf(first));
        assert.equal(applied.lastApplied("vinnytsia")?.timestamp, edited, "the ticket's `updated` orders an Automation delivery");
        // The captured request, byte for byte.
        const same = await automation(body);
        assert.equal(same.status, 409);
        assert.match(await error(same), /this very body was already received \(job [0-9a-f-]{36}\); a replay is ignored/);
        // A captured request altered so that its bytes differ, its edit time the same: not newer than the last applied.
        const altered = await automation({ ...automationBody("DCMOPS-607", bank, edited), extra: 1 });
        assert.equal(altered.status, 409);
        assert.match(await error(altered), /was applied already/);
        const older = await automation(automationBody("DCMOPS-607", { ...bank, displayName: "Vinnytsia (old)" }, edited - 60_000));
        assert.equal(older.status, 409);
        // Neither `timestamp` nor `fields.updated`: nothing orders it, so it is refused.
        const bare = automationBody("DCMOPS-607", bank) as { fields: Record<string, unknown> };
        delete bare.fields.updated;
        const unordered = await automation(bare);
        assert.equal(unordered.status, 400);
        assert.match(await error(unordered), /must carry the ticket's 'fields\.updated'/);
        assert.equal(received.length, 1, "only the first delivery became a job");
        // After a restart too: the body digests and the applied version are on disk.
        await receiver.close(2_000);
        await start();
        assert.equal((await automation(body)).status, 409);
    });

    it("GET /jobs/<id> also accepts the webhook secret's HMAC of the path, domain-separated and expiring", async () => {
        const res = await signed(webhookBody("DCMOPS-603", { alias: "odesa", displayName: "Odesa Bank", firstEmployeeEmail: "it@odesa.example", keyKeeperUrl: "https://k.odesa.example" }), "r-20");
        assert.equal(res.status, 202);
        const id = await jobOf(res);
        const jobPath = `/jobs/${id}`;
        const nowS = Math.floor(Date.now() / 1000);
        const read = (signature: string, expires: number) => fetch(`${base}${jobPath}`, { headers: { "x-hub-signature": signature, "x-onboarding-expires": String(expires) } });
        const ok = await read(signJobRead(SECRET, jobPath, nowS + 60), nowS + 60);
        assert.equal(ok.status, 200);
        assert.equal(((await ok.json()) as { id: string }).id, id);
        const other = await read(signJobRead(SECRET, "/jobs/00000000-0000-0000-0000-000000000000", nowS + 60), nowS + 60);
        assert.equal(other.status, 401);
        assert.match(await error(other), /HMAC with the webhook secret of "dcm-onboarding\/jobs-read\/v1/);
        // Domain separation: the body-style HMAC of the bare path (the old, permanent capability) reads nothing.
        assert.equal((await read(signBody(SECRET, jobPath), nowS + 60)).status, 401);
        // Expiry: a signature that expired, or one claiming more than an hour, is refused; the expiry is signed.
        const expired = await read(signJobRead(SECRET, jobPath, nowS - 5), nowS - 5);
        assert.equal(expired.status, 401);
        assert.match(await error(expired), /expired/);
        const far = await read(signJobRead(SECRET, jobPath, nowS + MAX_JOB_READ_S + 120), nowS + MAX_JOB_READ_S + 120);
        assert.equal(far.status, 401);
        assert.match(await error(far), /more than 3600 s ahead/);
        assert.equal((await read(signJobRead(SECRET, jobPath, nowS + 60), nowS + 61)).status, 401, "the expiry is part of what is signed");
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
