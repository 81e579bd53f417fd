import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JobQueue } from "../../../scripts/lib/onboarding/queue";

/** A job the test finishes by hand. */
function gate() {
    let open!: () => void;
    const opened = new Promise<void>((r) => { open = r; });
    return { open, opened };
}

describe("JobQueue", () => {
    it("runs one job per stack at a time, at most `concurrency` overall, in arrival order per stack", async () => {
        const queue = new JobQueue<string>({ concurrency: 2 });
        const running = new Map<string, number>();
        let overall = 0;
        let maxOverall = 0;
        const order: string[] = [];
        const gates = new Map<string, ReturnType<typeof gate>>();
        const submit = (stack: string, n: number) => {
            const g = gate();
            gates.set(`${stack}${n}`, g);
            return queue.submit(stack, { n: String(n) }, async () => {
                running.set(stack, (running.get(stack) ?? 0) + 1);
                assert.equal(running.get(stack), 1, `two jobs of ${stack} at once`);
                overall++;
                maxOverall = Math.max(maxOverall, overall);
                order.push(`${stack}${n}`);
                await g.opened;
                running.set(stack, running.get(stack)! - 1);
                overall--;
                return `${stack}${n}`;
            });
        };
        const jobs = [submit("a", 1), submit("a", 2), submit("b", 1), submit("a", 3), submit("c", 1), submit("b", 2)];
        assert.deepEqual(jobs.map((j) => j.state), ["running", "queued", "running", "queued", "queued", "queued"]);
        // Finish jobs in an order unlike their arrival; each release lets the scheduler pick the next runnable one.
        for (const name of ["b1", "a1", "c1", "a2", "b2", "a3"]) {
            await new Promise((r) => setImmediate(r));
            if (!order.includes(name)) await new Promise((r) => setTimeout(r, 5));
            gates.get(name)!.open();
            await queue.wait(jobs.find((j) => `${j.stack}${j.labels.n}` === name)!.id);
        }
        await queue.idle();
        assert.equal(maxOverall, 2);
        assert.deepEqual(order.filter((n) => n.startsWith("a")), ["a1", "a2", "a3"]);
        assert.ok(jobs.every((j) => queue.get(j.id)!.state === "succeeded"));
        assert.equal(queue.get(jobs[0].id)!.result, "a1");
    });

    it("marks a thrown job failed with its message, and a failed result failed", async () => {
        const queue = new JobQueue<{ ok: boolean }>({ concurrency: 1, failed: (r) => !r.ok });
        const thrown = queue.submit("a", {}, async () => { throw new Error("engine crashed"); });
        const bad = queue.submit("b", {}, async () => ({ ok: false }));
        assert.equal((await queue.wait(thrown.id)).error, "engine crashed");
        assert.equal((await queue.wait(bad.id)).state, "failed");
    });

    it("on stop, abandons queued jobs, waits for the running one, and refuses new ones", async () => {
        const queue = new JobQueue<string>({ concurrency: 1 });
        const g = gate();
        let startedSecond = false;
        const first = queue.submit("a", {}, async () => { await g.opened; return "done"; });
        const second = queue.submit("b", {}, async () => { startedSecond = true; return "never"; });
        const stopping = queue.stop(10_000);
        assert.throws(() => queue.submit("c", {}, async () => "x"), /shutting down/);
        g.open();
        assert.deepEqual(await stopping, []);
        assert.equal(queue.get(first.id)!.state, "succeeded");
        assert.equal(queue.get(second.id)!.state, "abandoned");
        assert.equal(startedSecond, false);
    });

    it("reports jobs still running at the end of the grace period", async () => {
        const queue = new JobQueue<string>({ concurrency: 1 });
        const g = gate();
        const job = queue.submit("a", {}, async () => { await g.opened; return "late"; });
        assert.deepEqual(await queue.stop(20), [job.id]);
        g.open();
    });
});
