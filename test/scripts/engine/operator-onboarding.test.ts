/**
 * Onboarding on the operator engine, without a cluster: the receiver makes an accepted delivery durable (its
 * `accept` hook, the Stack's server-side apply in production) before the 202, and refuses with 503 when it cannot;
 * the Stack status is read as DevOps reads it; the ticket's comment says where to follow the bank.
 * test/real/operator-onboarding.test.ts does the same against a real API server, with a receiver killed after its 202.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { plainText } from "../../../scripts/lib/jira/adf";
import { handedOverComment, ONBOARDING, progressOf } from "../../../scripts/lib/engine/operator-onboarding";
import { parseMapping } from "../../../scripts/lib/onboarding/mapping";
import { OnboardingResult, precheck } from "../../../scripts/lib/onboarding/pipeline";
import { JobQueue } from "../../../scripts/lib/onboarding/queue";
import { createReceiver, Receiver } from "../../../scripts/lib/onboarding/server";
import { automationBody, tempProject } from "../../../support/onboarding/fixtures";
import { PROJECT_ROOT as ROOT } from "../../../domain/project";

const TOKEN = "operator-token-not-a-secret";

describe("the receiver with a durable accept (operator engine)", () => {
    const temp = tempProject([]);
    const events: string[] = [];
    let failAccept = false;
    let receiver: Receiver;
    let base: string;
    const queue = new JobQueue<OnboardingResult>({ concurrency: 1, failed: (r) => r.status !== "succeeded" });
    before(async () => {
        const mapping = parseMapping(fs.readFileSync(path.join(ROOT, "jira-mapping.yaml"), "utf8"));
        receiver = createReceiver({
            token: TOKEN, queue,
            precheck: (d) => precheck(d, { project: temp.project, mapping }),
            accept: async ({ alias, ticket }) => {
                events.push(`accept ${alias} ${ticket}`);
                await new Promise((r) => setTimeout(r, 200));
                if (failAccept) throw new Error("the API server refused: connection refused");
                events.push(`durable ${alias}`);
                return `dcm-fleet/${alias}`;
            },
            onboard: async (p) => {
                events.push(`job ${p.ticket}`);
                return { status: "succeeded", ticket: p.ticket, problems: [] };
            },
        });
        base = `http://127.0.0.1:${(await receiver.listen(0, "127.0.0.1")).port}`;
    });
    after(async () => {
        await receiver.close(2_000);
        temp.cleanup();
    });
    const post = (key: string, alias: string) => fetch(`${base}/jira`, {
        method: "POST", headers: { "content-type": "application/json", "x-onboarding-token": TOKEN }, body: JSON.stringify(automationBody(key, { alias })),
    });

    it("answers 202 only once the delivery is durable, and says where", async () => {
        const res = await post("DCMOPS-7001", "odesa");
        const sawAt = events.length;
        assert.equal(res.status, 202);
        const body = await res.json() as { durable?: string; stack: string };
        assert.equal(body.durable, "dcm-fleet/odesa");
        assert.deepEqual(events.slice(0, 2), ["accept odesa DCMOPS-7001", "durable odesa"]);
        assert.ok(sawAt >= 2, "the delivery was durable before the 202 arrived");
    });

    it("answers 503 and queues nothing when the cluster does not take the Stack; the ticket can be delivered again", async () => {
        failAccept = true;
        const before = queue.stats();
        const res = await post("DCMOPS-7002", "kharkiv");
        assert.equal(res.status, 503);
        assert.match(((await res.json()) as { error: string }).error, /could not be recorded durably; nothing was accepted/);
        assert.deepEqual(queue.stats(), before, "no job queued");
        assert.ok(!events.includes("job DCMOPS-7002"));
        failAccept = false;
        assert.equal((await post("DCMOPS-7002", "kharkiv")).status, 202);
    });
});

describe("a Stack's progress, as its status says", () => {
    const meta = { name: "odesa", annotations: { [ONBOARDING.ticket]: "DCMOPS-7001", [ONBOARDING.phase]: "handed-over" } };
    const cond = (type: string, status: string, reason: string, message = "") => ({ type, status, reason, message, lastTransitionTime: "2026-12-07T12:00:00Z" });

    it("reads waiting, running, succeeded, failed (drift found by the refresh) and stalled", () => {
        assert.equal(progressOf({ metadata: meta }).state, "waiting");
        assert.deepEqual(progressOf({ metadata: meta, status: { conditions: [cond("Ready", "False", "NotReadyInProgress"), cond("Reconciling", "True", "StackProcessing", "waiting for workspace readiness")] } }),
            { alias: "odesa", ticket: "DCMOPS-7001", phase: "handed-over", state: "running", detail: "StackProcessing: waiting for workspace readiness" });
        assert.equal(progressOf({ metadata: meta, status: { conditions: [cond("Ready", "True", "ProcessingCompleted")] } }).state, "succeeded");
        const drift = progressOf({ metadata: meta, status: { lastUpdate: { state: "failed", message: "refresh: no changes were expected but changes were proposed" }, conditions: [cond("Ready", "False", "NotReadyInProgress"), cond("Reconciling", "True", "RetryingAfterFailure")] } });
        assert.equal(drift.state, "failed");
        assert.match(drift.detail, /no changes were expected/);
        assert.equal(progressOf({ metadata: meta, status: { conditions: [cond("Stalled", "True", "SourceUnavailable", "git fetch failed")] } }).state, "stalled");
    });

    it("tells the ticket where to follow the bank", () => {
        const text = plainText(handedOverComment("odesa", "stacks/Pulumi.odesa.yaml", "0123456789abcdef0123456789abcdef01234567", "kubectl -n dcm-fleet get stack odesa -o jsonpath='{.status.conditions}'", []));
        assert.match(text, /handed to the Pulumi Kubernetes Operator/);
        assert.match(text, /kubectl -n dcm-fleet get stack odesa/);
        assert.match(text, /commit 0123456789ab/);
    });
});

describe("serve --engine operator and the workspace image", () => {
    it("refuses to start (exit 2, nothing listening) while operatorWorkspaceImage has the placeholder digest", { timeout: 60_000 }, async () => {
        const temp = tempProject([], { operatorWorkspaceImage: `pulumi/pulumi-nodejs:3.259.0-nonroot@sha256:${"0".repeat(64)}` });
        try {
            const r = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "serve.ts"),
                "--engine", "operator", "--project", temp.dir, "--mapping", path.join(ROOT, "jira-mapping.yaml"), "--commit", "0123456789abcdef0123456789abcdef01234567", "--port", "0", "--host", "127.0.0.1"], {
                cwd: ROOT, encoding: "utf8", timeout: 50_000, env: { PATH: process.env.PATH, HOME: process.env.HOME, ONBOARDING_TOKEN: TOKEN },
            });
            assert.equal(r.status, 2, r.stderr);
            assert.match(r.stderr, /operatorWorkspaceImage: .*placeholder digest.*Set it in Pulumi\.yaml before serving with --engine operator/);
            assert.doesNotMatch(r.stderr, /listening/);
        } finally {
            temp.cleanup();
        }
    });
});
