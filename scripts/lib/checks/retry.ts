/**
 * Retries with exponential backoff and jitter: transient failures (TransientFailure) are retried until
 * the deadline; every attempt has its own timeout, never past the deadline. A BlockedFailure still at the
 * deadline ends as not run (CheckSkipped), not failed.
 */
import { BlockedFailure, CheckSkipped, TransientFailure } from "./errors";
import { NOT_RUN } from "./types";

export interface RetryOptions {
    /** Epoch ms after which no new attempt starts. */
    deadline: number;
    /** Longest single attempt. */
    timeoutMs: number;
    /** First pause between attempts; default 100 ms, doubling up to maxDelayMs. */
    baseDelayMs?: number;
    /** Longest pause between attempts; default 2 s. */
    maxDelayMs?: number;
    /** Called before each retry with the reason the last attempt failed and the pause before the next. */
    onRetry?: (reason: string, attempt: number, delayMs: number) => void;
}

/** Shortest attempt worth starting near the deadline. */
const MIN_ATTEMPT_MS = 200;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An attempt that got no answer in its time. */
class AttemptTimedOut extends TransientFailure {}

/** Runs attempt(timeoutMs) once, rejecting with TransientFailure if it takes longer. */
export function withTimeout<T>(attempt: (timeoutMs: number) => Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AttemptTimedOut(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([attempt(timeoutMs), expired]).finally(() => clearTimeout(timer));
}

export async function withRetry<T>(attempt: (timeoutMs: number) => Promise<T>, options: RetryOptions): Promise<T> {
    const base = options.baseDelayMs ?? 100;
    const max = options.maxDelayMs ?? 2000;
    // The last failure that was an answer: an attempt cut short by the deadline (or a loaded machine) must not
    // hide what the server said before, e.g. "answered 503" behind "timed out after 700 ms".
    let answered: TransientFailure | undefined;
    for (let n = 1; ; n++) {
        const left = options.deadline - Date.now();
        const timeoutMs = Math.max(MIN_ATTEMPT_MS, Math.min(options.timeoutMs, left));
        try {
            return await withTimeout(attempt, timeoutMs);
        } catch (caught) {
            if (!(caught instanceof TransientFailure)) throw caught;
            if (!(caught instanceof AttemptTimedOut)) answered = caught;
            const e = caught instanceof AttemptTimedOut && answered ? answered : caught;
            const delay = Math.min(max, base * 2 ** (n - 1)) * (0.5 + Math.random() / 2);
            if (Date.now() + delay + MIN_ATTEMPT_MS > options.deadline) {
                if (e instanceof BlockedFailure) throw new CheckSkipped(`${NOT_RUN}${e.message} (until the deadline, ${n} attempt${n === 1 ? "" : "s"})`);
                throw new TransientFailure(`${e.message} (gave up at the deadline after ${n} attempt${n === 1 ? "" : "s"})`);
            }
            options.onRetry?.(caught.message, n, delay);
            await sleep(delay);
        }
    }
}
