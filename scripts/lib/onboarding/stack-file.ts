/**
 * Writing a bank's stack file from a Jira ticket. The ticket key is recorded on the file's first line
 * (`# jira-ticket: KEY`, nothing else on it), which makes the ticket the file's owner: a delivery for the
 * same ticket updates the onboarding keys of that file in place (other keys and comments stay), a
 * delivery from any other ticket, or for a file written by hand, is refused. Every value is written as a
 * double-quoted scalar on one line (escapes, never folded), so no value can reach another line: not the
 * owner line, not a key of its own, whatever line breaks a YAML parser knows. New files are published
 * atomically and exclusively (link), so two writers can never both create the same bank.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { characterProblem } from "../../../domain/rules";
import { listStacks, ProjectFile, stackFilePath } from "../engine/stack-config";
import { ChangeControlError, heldChanges } from "./change-control";

// The whole first line; no `m` flag: `^` and `$` are the line's own ends, never a place inside a value.
const OWNER_LINE = /^# jira-ticket: ([A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9})$/;
// Characters some parser takes as a line break or that hide text; never written into a comment.
const UNSAFE_IN_COMMENT = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
/**
 * Options that keep every scalar on one line: no folding of long strings, and double-quoted strings as
 * JSON (`\n` stays an escape; the package's own style would turn it into a real line break).
 */
const ONE_LINE: YAML.ToStringOptions = { lineWidth: 0, minContentWidth: 0, doubleQuotedAsJSON: true };

/** The ticket recorded in a stack file's text: its first line, exactly `# jira-ticket: KEY`; else undefined. */
export function recordedTicket(text: string): string | undefined {
    const end = text.indexOf("\n");
    return OWNER_LINE.exec(end < 0 ? text : text.slice(0, end).replace(/\r$/, ""))?.[1];
}

/** The header of a file onboarding writes: the owner line first, then what the file is. */
function header(ticket: string, displayName: string): string[] {
    return [
        `# jira-ticket: ${ticket}`,
        `# ${displayName.replace(UNSAFE_IN_COMMENT, "?")}: onboarding data from Jira ${ticket} (npm run onboard).`,
        "# A new delivery of the same ticket updates the keys below; other keys added by hand are kept.",
    ];
}

/**
 * A string scalar written double-quoted, so it stays on its line. JSON escapes controls but leaves U+2028,
 * U+2029 and U+0085 raw, which YAML 1.1 parsers take as line breaks: such values are refused here too,
 * whatever validation let through.
 */
function quoted(value: string): YAML.Scalar {
    const rule = characterProblem(value);
    if (rule) throw new Error(`refusing to write a stack file value that ${rule.replace(/^must not contain/, "contains")}`);
    const node = new YAML.Scalar(value);
    node.type = YAML.Scalar.QUOTE_DOUBLE;
    return node;
}

/** A list of strings, one quoted item a line. */
function list(values: string[]): YAML.YAMLSeq {
    const seq = new YAML.YAMLSeq();
    for (const v of values) seq.add(quoted(v));
    return seq;
}

/** Why a stack file cannot be written for this ticket. */
export class OwnershipError extends Error {
    constructor(message: string, public readonly config: { key: string }) {
        super(message);
        this.name = "OwnershipError";
    }
}

export interface Ownership {
    /** The stack file exists and belongs to this ticket. */
    exists: boolean;
    /** Its current config, keyed without namespace (empty for a new file). */
    existing: Record<string, unknown>;
}

/**
 * Checks that `alias` is free or already belongs to `ticket`, and that `ticket` has not onboarded a
 * different alias. Throws OwnershipError naming the other bank's file and ticket.
 */
export function checkOwnership(project: ProjectFile, alias: string, ticket: string): Ownership {
    const file = stackFilePath(project, alias);
    const shown = path.relative(project.dir, file);
    let existing: Record<string, unknown> = {};
    let exists = false;
    if (fs.existsSync(file)) {
        const text = fs.readFileSync(file, "utf8");
        const owner = recordedTicket(text);
        if (owner !== ticket) {
            const whose = owner ? `Jira ticket ${owner}` : "no Jira ticket (written by hand)";
            throw new OwnershipError(`alias '${alias}' already belongs to another bank: ${shown} exists and was onboarded by ${whose}; choose another alias, or change that file by hand`, { key: "alias" });
        }
        exists = true;
        existing = configOf(project, text);
    }
    for (const other of listStacks(project)) {
        if (other === alias) continue;
        const otherFile = stackFilePath(project, other);
        if (ticketOf(otherFile) === ticket) {
            throw new OwnershipError(`Jira ticket ${ticket} already onboarded alias '${other}' (${path.relative(project.dir, otherFile)}); an alias cannot be renamed by a new delivery`, { key: "alias" });
        }
    }
    return { exists, existing };
}

const tickets = new Map<string, { mtimeMs: number; size: number; ticket?: string }>();

/** The ticket recorded in a stack file, cached by modification time (every delivery checks every file). */
function ticketOf(file: string): string | undefined {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch {
        return undefined;
    }
    const known = tickets.get(file);
    if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known.ticket;
    let ticket: string | undefined;
    try {
        ticket = recordedTicket(fs.readFileSync(file, "utf8"));
    } catch {
        ticket = undefined;
    }
    tickets.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, ticket });
    return ticket;
}

function configOf(project: ProjectFile, text: string): Record<string, unknown> {
    const doc = (YAML.parse(text) ?? {}) as { config?: Record<string, unknown> };
    const prefix = `${project.name}:`;
    return Object.fromEntries(Object.entries(doc.config ?? {}).map(([k, v]) => [k.startsWith(prefix) ? k.slice(prefix.length) : k, v]));
}

export type WriteOutcome = "created" | "updated" | "unchanged";

/**
 * Writes `<stackConfigDir>/Pulumi.<alias>.yaml` with the bank's keys. The alias must already be
 * validated (a DNS label), which keeps the path inside the stack config directory. The single guard
 * against the file having changed since the delivery was checked: its owner is checked again, and a value
 * that would change a controlled key of the file as it is now (change-control.ts) is refused
 * (ChangeControlError), whatever the caller prepared.
 */
export function writeStackFile(project: ProjectFile, alias: string, ticket: string, bank: Record<string, string>, displayName: string, newFileDefaults: Record<string, string | string[]> = {}): WriteOutcome {
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(alias)) throw new Error("refusing to write a stack file: the alias is not a DNS label (it is not quoted: it may hold line breaks)");
    const now = checkOwnership(project, alias, ticket);
    const held = heldChanges(now.exists, now.existing, bank);
    if (held.length > 0) throw new ChangeControlError(held);
    const file = stackFilePath(project, alias);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const ns = (k: string) => `${project.name}:${k}`;

    if (fs.existsSync(file)) {
        const before = fs.readFileSync(file, "utf8");
        // Our header lines are rewritten (the display name may have changed); the owner line stays first.
        const lines = before.split("\n");
        const ours = lines[1] !== undefined && / onboarding data from Jira [A-Z][A-Z0-9_]*-[0-9]+ \(npm run onboard\)\.$/.test(lines[1]) ? 3 : 1;
        const doc = YAML.parseDocument(lines.slice(ours).join("\n"));
        if (!YAML.isMap(doc.get("config"))) doc.set("config", doc.createNode({}));
        for (const [k, v] of Object.entries(bank)) doc.setIn(["config", ns(k)], quoted(v));
        const after = `${header(ticket, displayName).join("\n")}\n${doc.toString(ONE_LINE)}`;
        if (after === before) return "unchanged";
        publish(file, after, false);
        return "updated";
    }
    // The ticket's own values win over the mapping's defaults.
    const doc = new YAML.Document({ config: {} });
    for (const [k, v] of Object.entries({ ...newFileDefaults, ...bank })) doc.setIn(["config", ns(k)], Array.isArray(v) ? list(v) : quoted(v));
    try {
        publish(file, `${header(ticket, displayName).join("\n")}\n${doc.toString(ONE_LINE)}`, true);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") {
            // Another writer created it between the check and now: its ticket decides, as above.
            return writeStackFile(project, alias, ticket, bank, displayName, newFileDefaults);
        }
        throw e;
    }
    return "created";
}

/** Writes a temporary file beside the target, then links (exclusive) or renames (replace) it in place. */
function publish(file: string, content: string, exclusive: boolean): void {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(6).toString("hex")}.tmp`);
    fs.writeFileSync(tmp, content, { mode: 0o644, flag: "wx" });
    try {
        if (exclusive) fs.linkSync(tmp, file);
        else fs.renameSync(tmp, file);
    } finally {
        fs.rmSync(tmp, { force: true });
    }
}
