/**
 * The job queue behind the webhook receiver: jobs run in arrival order, at most one per stack at a time
 * (a Pulumi stack takes one update at a time) and at most `concurrency` overall. On stop, queued jobs are
 * abandoned (never started, so nothing half-done) and running ones get a grace period to finish.
 */
import * as crypto from "node:crypto";

export type JobState = "queued" | "running" | "succeeded" | "failed" | "abandoned";

export interface JobRecord<R> {
    id: string;
    /** The stack the job works on (its serialisation key). */
    stack: string;
    /** Free-form labels shown by GET /jobs/<id> (ticket, delivery id). */
    labels: Record<string, string>;
    state: JobState;
    queuedAt: string;
    startedAt?: string;
    finishedAt?: string;
    result?: R;
    error?: string;
}

interface Entry<R> {
    record: JobRecord<R>;
    work: () => Promise<R>;
    done: Promise<void>;
    settle: () => void;
}

export interface QueueOptions<R> {
    /** Jobs running at once over all stacks. */
    concurrency: number;
    /** Whether a result counts as failed (the job ran but did not succeed). */
    failed?: (result: R) => boolean;
    /** Finished jobs kept for GET /jobs/<id>. */
    keep?: number;
    onChange?: (record: JobRecord<R>) => void;
}

export class JobQueue<R> {
    private readonly waiting: Entry<R>[] = [];
    private readonly running = new Map<string, Entry<R>>();
    private readonly jobs = new Map<string, Entry<R>>();
    private stopping = false;

    constructor(private readonly options: QueueOptions<R>) {
        if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error("concurrency must be a positive integer");
    }

    get accepting(): boolean {
        return !this.stopping;
    }

    /** Counts by state, for /healthz. */
    stats(): { queued: number; running: number; concurrency: number } {
        return { queued: this.waiting.length, running: this.running.size, concurrency: this.options.concurrency };
    }

    get(id: string): JobRecord<R> | undefined {
        return this.jobs.get(id)?.record;
    }

    /** Queues a job; throws once stopping. */
    submit(stack: string, labels: Record<string, string>, work: () => Promise<R>): JobRecord<R> {
        if (this.stopping) throw new Error("the queue is shutting down and takes no new jobs");
        let settle!: () => void;
        const done = new Promise<void>((r) => { settle = r; });
        const record: JobRecord<R> = { id: crypto.randomUUID(), stack, labels, state: "queued", queuedAt: new Date().toISOString() };
        const entry: Entry<R> = { record, work, done, settle };
        this.jobs.set(record.id, entry);
        this.waiting.push(entry);
        this.forget();
        this.pump();
        return record;
    }

    /** Resolves when the job has finished (or been abandoned). */
    async wait(id: string): Promise<JobRecord<R>> {
        const entry = this.jobs.get(id);
        if (!entry) throw new Error(`no job ${id}`);
        await entry.done;
        return entry.record;
    }

    /** Resolves when nothing is queued or running. */
    async idle(): Promise<void> {
        while (this.waiting.length > 0 || this.running.size > 0) {
            await Promise.race([...this.running.values()].map((e) => e.done));
        }
    }

    /**
     * Stops taking jobs, abandons the queued ones and waits up to `graceMs` for running ones. Returns the
     * ids of jobs still running at the deadline (their stacks may hold a lock: `pulumi cancel`).
     */
    async stop(graceMs: number): Promise<string[]> {
        this.stopping = true;
        for (const entry of this.waiting.splice(0)) this.finish(entry, "abandoned", undefined, "abandoned before it started: the service was shutting down");
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((r) => { timer = setTimeout(r, graceMs); });
        await Promise.race([Promise.all([...this.running.values()].map((e) => e.done)), deadline]);
        clearTimeout(timer);
        return [...this.running.values()].map((e) => e.record.id);
    }

    private pump(): void {
        for (let i = 0; i < this.waiting.length && this.running.size < this.options.concurrency;) {
            const entry = this.waiting[i];
            if (this.running.has(entry.record.stack)) {
                i++;
                continue;
            }
            this.waiting.splice(i, 1);
            this.start(entry);
        }
    }

    private start(entry: Entry<R>): void {
        this.running.set(entry.record.stack, entry);
        entry.record.state = "running";
        entry.record.startedAt = new Date().toISOString();
        this.options.onChange?.(entry.record);
        entry.work().then(
            (result) => this.finish(entry, this.options.failed?.(result) ? "failed" : "succeeded", result),
            (e: unknown) => this.finish(entry, "failed", undefined, e instanceof Error ? e.message : String(e)),
        );
    }

    private finish(entry: Entry<R>, state: JobState, result?: R, error?: string): void {
        entry.record.state = state;
        entry.record.finishedAt = new Date().toISOString();
        if (result !== undefined) entry.record.result = result;
        if (error !== undefined) entry.record.error = error;
        if (this.running.get(entry.record.stack) === entry) this.running.delete(entry.record.stack);
        this.options.onChange?.(entry.record);
        entry.settle();
        if (!this.stopping) this.pump();
    }

    /** Drops the oldest finished jobs beyond `keep`. */
    private forget(): void {
        const keep = this.options.keep ?? 1000;
        if (this.jobs.size <= keep) return;
        for (const [id, e] of this.jobs) {
            if (this.jobs.size <= keep) break;
            if (e.record.finishedAt) this.jobs.delete(id);
        }
    }
}
