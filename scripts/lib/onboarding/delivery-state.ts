/**
 * The one replay guard of onboarding (ReplayGuard): the delivery identifiers (and body digests) seen
 * (an append-only JSON-lines file, compacted when it grows), the newest delivery accepted per ticket, and
 * per bank the version of the last delivery whose data was written to the stack file. What must survive a
 * restart lives in the state directory (default `.pulumi/onboarding/`, beside the per-bank workspaces,
 * never in git); the receiver and the job processes each open it with the same directory.
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
    /** Its version (payload.ts Delivery.version: the signed timestamp, or the ticket's `updated`; ms since 1970). */
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

export interface ReplayGuardOptions {
    /** The state directory (`deliveries.jsonl` and `applied/`); none keeps everything in memory (tests, trials). */
    stateDir?: string;
    /** How long a delivery id or body digest is remembered; default 24 h. */
    ttlMs?: number;
    now?: () => number;
}

/**
 * Owns every replay decision: a delivery id or body seen before, a delivery not newer than the newest
 * accepted for its ticket, or not newer than the last one applied to its bank.
 */
export class ReplayGuard {
    private seenStore?: SeenDeliveries;
    private readonly newest = new Map<string, number>();
    private readonly applied?: AppliedDeliveries;
    private readonly appliedInMemory = new Map<string, AppliedDelivery>();

    constructor(private readonly options: ReplayGuardOptions = {}) {
        if (options.stateDir) this.applied = new AppliedDeliveries(path.join(options.stateDir, "applied"));
    }

    /** The seen ids, opened on first use (a job process never reads or compacts the receiver's file). */
    private get seen(): SeenDeliveries {
        this.seenStore ??= new SeenDeliveries(this.options.stateDir ? path.join(this.options.stateDir, "deliveries.jsonl") : undefined, this.options.ttlMs ?? 24 * 3600_000, 10_000, this.options.now);
        return this.seenStore;
    }

    /** The earlier delivery with this identifier (or body digest), if still remembered. */
    seenBefore(id: string): SeenDelivery | undefined {
        return this.seen.get(id);
    }

    remember(id: string, jobId?: string): void {
        this.seen.remember(id, jobId);
    }

    /** The identifier a body is remembered by: a replay of the same bytes is the same delivery, whatever headers it carries. */
    static bodyId(raw: Buffer): string {
        return `body:${crypto.createHash("sha256").update(raw).digest("hex")}`;
    }

    /**
     * At receipt: why a delivery of `ticket` with `version` must not be queued for `alias` (an equal or newer
     * one was accepted or applied); undefined when it may, and it becomes the ticket's newest.
     */
    admit(alias: string, ticket: string, version: number): string | undefined {
        const stale = this.staleBecause(alias, ticket, version);
        if (stale) return stale;
        const last = this.newest.get(ticket);
        if (last !== undefined && version <= last) {
            return `a delivery of ${ticket} sent at ${new Date(last).toISOString()} was accepted already; this one was sent at ${new Date(version).toISOString()}`;
        }
        this.newest.set(ticket, version);
        if (this.newest.size > 10_000) this.newest.delete(this.newest.keys().next().value!);
        return undefined;
    }

    /** In the job, before writing: why the delivery must not be applied (an equal or newer one of the ticket was). */
    staleBecause(alias: string, ticket: string, version: number): string | undefined {
        const last = this.lastApplied(alias);
        if (!last || last.ticket !== ticket || version > last.timestamp) return undefined;
        return `a delivery of ${ticket} sent at ${new Date(last.timestamp).toISOString()} was applied already; this one was sent at ${new Date(version).toISOString()} and would roll the bank's data back`;
    }

    recordApplied(alias: string, applied: AppliedDelivery): void {
        if (this.applied) this.applied.record(alias, applied);
        else this.appliedInMemory.set(alias, applied);
    }

    lastApplied(alias: string): AppliedDelivery | undefined {
        return this.applied ? this.applied.get(alias) : this.appliedInMemory.get(alias);
    }
}
