import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { doc, paragraph, plainText } from "../../../scripts/lib/jira/adf";
import { isIssueKey, JiraClient, JiraError } from "../../../scripts/lib/jira/client";
import { FakeJira, startFakeJira } from "../../../support/fake-jira-server";

const EMAIL = "devops@dcm.example";
const TOKEN = "jira-token-canary-7f3a9c";

describe("JiraClient against a fake Jira Cloud site", () => {
    let jira: FakeJira;
    const delays: number[] = [];
    const client = () => new JiraClient({ baseUrl: jira.url, email: EMAIL, apiToken: TOKEN, sleep: async (ms) => { delays.push(ms); }, maxRetries: 3 });
    before(async () => { jira = await startFakeJira(EMAIL, TOKEN); });
    after(() => jira.close());

    it("posts an ADF comment with basic auth from the credentials", async () => {
        jira.calls.length = 0;
        const id = await client().addComment("DCMOPS-7", doc(paragraph("hello")));
        assert.ok(id);
        assert.equal(jira.calls.length, 1);
        const call = jira.calls[0];
        assert.equal(call.path, "/rest/api/3/issue/DCMOPS-7/comment");
        assert.ok(call.authorized);
        assert.equal(call.body.body.type, "doc");
        assert.equal(plainText(call.body.body), "hello");
    });

    it("retries 429 after the Retry-After seconds, and 5xx with backoff", async () => {
        jira.calls.length = 0;
        delays.length = 0;
        jira.faults.push({ status: 429, headers: { "retry-after": "7" } }, { status: 503 });
        await client().addComment("DCMOPS-7", doc(paragraph("x")));
        assert.equal(jira.calls.length, 3);
        assert.equal(delays[0], 7000, "Retry-After: 7 means a 7 s wait");
        assert.ok(delays[1] > 0 && delays[1] !== 7000);
    });

    it("gives up after its retries with Jira's message and never the token", async () => {
        jira.calls.length = 0;
        for (let i = 0; i < 4; i++) jira.faults.push({ status: 500, body: { errorMessages: ["database on fire"] } });
        await assert.rejects(client().addComment("DCMOPS-7", doc(paragraph("x"))), (e: JiraError) => {
            assert.equal(e.status, 500);
            assert.match(e.message, /database on fire/);
            assert.match(e.message, /after 4 attempts/);
            assert.doesNotMatch(e.message, new RegExp(TOKEN));
            assert.doesNotMatch(e.message, new RegExp(Buffer.from(`${EMAIL}:${TOKEN}`).toString("base64")));
            return true;
        });
        assert.equal(jira.calls.length, 4);
    });

    it("does not retry a 4xx other than 429", async () => {
        jira.calls.length = 0;
        const wrong = new JiraClient({ baseUrl: jira.url, email: EMAIL, apiToken: "wrong", sleep: async () => undefined });
        await assert.rejects(wrong.addComment("DCMOPS-7", doc(paragraph("x"))), /answered 401/);
        assert.equal(jira.calls.length, 1);
    });

    it("looks transitions up by name or target status, case-insensitive, and names the available ones otherwise", async () => {
        jira.calls.length = 0;
        assert.equal((await client().transitionByName("DCMOPS-7", "resolve")).id, "31");
        assert.deepEqual(jira.calls.at(-1)!.body, { transition: { id: "31" } });
        assert.equal((await client().transitionByName("DCMOPS-7", "In progress")).id, "11");
        await assert.rejects(client().transitionByName("DCMOPS-7", "Close"), /no transition named 'Close' \(available: 'Start progress', 'Resolve'\)/);
    });

    it("refuses anything but an issue key before any request", async () => {
        jira.calls.length = 0;
        for (const key of ["../../admin", "DCMOPS-1/../x", "dcmops-1", "A-0"]) {
            assert.equal(isIssueKey(key), false, key);
            await assert.rejects(client().addComment(key, doc(paragraph("x"))), /not a Jira issue key/);
        }
        assert.equal(jira.calls.length, 0);
    });

    it("reads its credentials from the environment and names only the missing variables", () => {
        const missing = JiraClient.fromEnv({ JIRA_BASE_URL: "https://x.atlassian.net", JIRA_API_TOKEN: TOKEN });
        assert.equal(missing.client, undefined);
        assert.deepEqual(missing.missing, ["JIRA_EMAIL"]);
        assert.ok(JiraClient.fromEnv({ JIRA_BASE_URL: jira.url, JIRA_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN }).client);
    });
});
