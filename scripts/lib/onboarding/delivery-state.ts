/**
 * What the receiver must remember across restarts to refuse replays: the delivery identifiers it has
 * seen (an append-only JSON-lines file, compacted when it grows) and, per bank, the signed timestamp of
 * the last delivery whose data was written to the stack file. Both live in the state directory
 * (default `.pulumi/onboarding/`, beside the per-bank workspaces, never in git).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** A delivery identifier seen before, and the job it started, if any. */
export interface SeenDelivery {
    at: number;
    jobId?: string;
}

/** Delivery identifiers seen within `ttlMs`, kept in `file` so a restart does not forget them. */
export class SeenDeliveries {
    private readonly seen = new Map<string, SeenDelivery>();
    private lines = 0;

    /**
     * @param file the JSON-lines file (created on first use); undefined keeps them in memory only
     * @param ttlMs how long an identifier is remembered
     * @param max most identifiers kept (the oldest go first)
     */
    constructor(private readonly file: string | undefined, private readonly ttlMs: number, private readonly max = 10_000, private readonly now: () => number = Date.now) {
        if (!file || !fs.existsSync(file)) return;
        for (const line of fs.readFileSync(file, "utf8").split("\n")) {
            try {
                const [id, at, jobId] = JSON.parse(line) as [unknown, unknown, unknown];
                if (typeof id === "string" && typeof at === "number") this.seen.set(id, { at, ...(typeof jobId === "string" ? { jobId } : {}) });
            } catch {
                // A torn last line (a crash mid-append) is skipped.
            }
        }
        this.prune();
        this.compact();
    }

    /** The earlier delivery with this identifier, if it is still remembered. */
    get(id: string): SeenDelivery | undefined {
        const known = this.seen.get(id);
        return known && this.now() - known.at <= this.ttlMs ? known : undefined;
    }

    remember(id: string, jobId?: string): void {
        const entry: SeenDelivery = { at: this.now(), ...(jobId ? { jobId } : {}) };
        this.seen.delete(id);
        this.seen.set(id, entry);
        if (this.seen.size > this.max) this.prune();
        if (!this.file) return;
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        fs.appendFileSync(this.file, `${JSON.stringify([id, entry.at, ...(jobId ? [jobId] : [])])}\n`, { mode: 0o600 });
        if (++this.lines > 2 * this.max) this.compact();
    }

    /** Drops expired identifiers, then the oldest beyond `max` (the map is in insertion order). */
    private prune(): void {
        const now = this.now();
        for (const [id, v] of this.seen) if (now - v.at > this.ttlMs) this.seen.delete(id);
        for (const id of this.seen.keys()) {
            if (this.seen.size <= this.max) break;
            this.seen.delete(id);
        }
    }

    /** Rewrites the file with what is remembered now (atomically: a crash leaves the old or the new file). */
    private compact(): void {
        if (!this.file) return;
        this.prune();
        const text = [...this.seen].map(([id, v]) => `${JSON.stringify([id, v.at, ...(v.jobId ? [v.jobId] : [])])}\n`).join("");
        writeAtomically(this.file, text);
        this.lines = this.seen.size;
    }
}

/** The delivery last applied to a bank's stack file. */
export interface AppliedDelivery {
    ticket: string;
    /** Its signed `timestamp` (ms since 1970). */
    timestamp: number;
}

/** Per bank, the timestamp of the last delivery written to its stack file: `<dir>/<alias>.json`. */
export class AppliedDeliveries {
    constructor(private readonly dir: string) {}

    /** The last delivery applied to `alias`, if one with a timestamp was. `alias` must be a validated DNS label. */
    get(alias: string): AppliedDelivery | undefined {
        try {
            const v = JSON.parse(fs.readFileSync(this.file(alias), "utf8")) as Partial<AppliedDelivery>;
            return typeof v.ticket === "string" && typeof v.timestamp === "number" ? { ticket: v.ticket, timestamp: v.timestamp } : undefined;
        } catch {
            return undefined;
        }
    }

    record(alias: string, applied: AppliedDelivery): void {
        writeAtomically(this.file(alias), `${JSON.stringify(applied)}\n`);
    }

    /**
     * Why a delivery of `ticket` sent at `timestamp` must not be applied to `alias`: an equal or newer one
     * of the same ticket was applied already. Undefined when it may be.
     */
    staleBecause(alias: string, ticket: string, timestamp: number): string | undefined {
        const last = this.get(alias);
        if (!last || last.ticket !== ticket || timestamp > last.timestamp) return undefined;
        return `a delivery of ${ticket} sent at ${new Date(last.timestamp).toISOString()} was applied already; this one was sent at ${new Date(timestamp).toISOString()} and would roll the bank's data back`;
    }

    private file(alias: string): string {
        if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(alias)) throw new Error("no delivery state: the alias is not a DNS label (not quoted: it may hold line breaks)");
        return path.join(this.dir, `${alias}.json`);
    }
}

function writeAtomically(file: string, text: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${crypto.randomBytes(6).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
}
