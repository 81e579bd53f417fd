/**
 * Everything onboarding says on a ticket: every comment's text (ADF) and, in TicketReporter, every post
 * and transition, from the receiver and from the jobs alike. A result comment carries only public
 * outputs, chosen from an allow-list and never one flagged secret; a last guard masks any secret output
 * value that would still appear.
 */
import { AdfDoc, AdfNode, bulletList, codeBlock, doc, heading, paragraph, table, text } from "../jira/adf";
import { resultLabel } from "../checks/report/table";
import { MASK } from "../../../domain/secret-values";
import type { StackOutput } from "../engine/stack-backend";
import { approvalSteps, describeHeld, HeldChange } from "./change-control";
import { Logger, silentLogger } from "./log";

/** One post-deploy check's result (scripts/lib/checks CheckReport). */
export interface CheckResultLike {
    id: string;
    step: number | string;
    title: string;
    status: "pass" | "fail" | "skip";
    ms: number;
    reason?: string;
    /** A passing check's warning (a certificate expiring soon); never a secret. */
    warning?: string;
}

/** A post-deploy check run's report (scripts/lib/checks CheckReport). */
export interface CheckReportLike {
    stack: string;
    results: CheckResultLike[];
    passed: boolean;
    ms: number;
}

/** Public outputs the comment shows, in order, with their labels. */
const PUBLIC_OUTPUTS: [string, string][] = [
    ["backofficeUrl", "Backoffice URL"],
    ["backofficeHost", "Backoffice host"],
    ["apiUrl", "API URL"],
    ["apiHost", "API host"],
    ["kratosPublicUrl", "Kratos public URL"],
    ["jwksUrl", "JWKS URL"],
    ["keyKeeperUrl", "Key keeper URL"],
    ["signingAlgorithm", "Signing algorithm"],
    ["kid", "Key id (kid)"],
];

export interface ResultCommentInput {
    stack: string;
    /** created, updated or unchanged. */
    file: string;
    outputs: Record<string, StackOutput>;
    changes: Record<string, number | undefined>;
    checks?: CheckReportLike;
    /** Why checks did not run, if they did not. */
    checksNote?: string;
}

export function resultComment(input: ResultCommentInput): AdfDoc {
    const visible = (key: string): unknown => {
        const o = input.outputs[key];
        return o && !o.secret ? o.value : undefined;
    };
    const facts: AdfNode[][] = [];
    for (const [key, label] of PUBLIC_OUTPUTS) {
        const v = visible(key);
        if (typeof v === "string" && v) facts.push([text(`${label}: `, ["strong"]), text(v, ["code"])]);
    }
    const users = visible("keyKeeperUsernames");
    if (users && typeof users === "object") {
        facts.push([text("Key keeper users: ", ["strong"]), text(Object.entries(users as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(", "), ["code"])]);
    }
    const content: AdfNode[] = [
        heading(3, `Bank '${input.stack}' rolled out`),
        paragraph(`Stack file ${input.file}; resource changes: ${formatChanges(input.changes)}.`),
        bulletList(facts),
    ];
    const pem = visible("publicKeyPem");
    if (typeof pem === "string") content.push(paragraph(text("Public key for JWT signature checks (PEM):", ["strong"])), codeBlock(pem.trim()));
    if (input.checks) {
        const c = input.checks;
        const failed = c.results.filter((r) => r.status === "fail").length;
        content.push(heading(4, `Post-deploy checks: ${c.passed ? "passed" : `${failed} failed`} (${(c.ms / 1000).toFixed(1)} s)`));
        content.push(table(["Step", "Check", "Status", "ms", "Reason"], c.results.map((r) => [String(r.step), r.title, resultLabel({ ...r, step: String(r.step) }), String(Math.round(r.ms)), r.reason ?? r.warning ?? ""])));
    } else {
        content.push(paragraph(`Post-deploy checks: ${input.checksNote ?? "not run"}.`));
    }
    return guard(doc(...content), input.outputs);
}

export function previewComment(stack: string, file: string, hosts: { backoffice: string; api: string }, changes: Record<string, number | undefined>): AdfDoc {
    return doc(
        heading(3, `Bank '${stack}': preview only (dry run)`),
        paragraph(`Stack file ${file}; planned resource changes: ${formatChanges(changes)}. Nothing was deployed.`),
        bulletList([[text("Backoffice host: ", ["strong"]), text(hosts.backoffice, ["code"])], [text("API host: ", ["strong"]), text(hosts.api, ["code"])]]),
    );
}

/** A failure: what went wrong, one line each, and what to do. */
export function failureComment(title: string, lines: string[], advice: string): AdfDoc {
    return doc(heading(3, title), bulletList(lines.map((l) => [l])), paragraph(advice));
}

function formatChanges(changes: Record<string, number | undefined>): string {
    const parts = Object.entries(changes).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`);
    return parts.join(", ") || "none";
}

/** Every string leaf of the secret outputs (at least 6 characters), to mask wherever it would appear. */
export function secretStrings(outputs: Record<string, StackOutput>): string[] {
    const found: string[] = [];
    const walk = (v: unknown) => {
        if (typeof v === "string") {
            if (v.length >= 6) found.push(v);
        } else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    for (const o of Object.values(outputs)) if (o.secret) walk(o.value);
    return found;
}

/** Replaces every secret output value in any text of the document. */
function guard(document: AdfDoc, outputs: Record<string, StackOutput>): AdfDoc {
    const secrets = secretStrings(outputs);
    if (secrets.length === 0) return document;
    return JSON.parse(JSON.stringify(document), (key, value) =>
        key === "text" && typeof value === "string" ? secrets.reduce((t, s) => t.split(s).join(MASK), value) : value) as AdfDoc;
}

/** The comment for data that cannot be onboarded. */
export function rejectionComment(status: "invalid" | "rejected", problems: string[]): AdfDoc {
    return status === "invalid"
        ? failureComment("Onboarding data is invalid: nothing was created", problems, "Correct the field(s) named above on this ticket; the next delivery of the ticket starts over.")
        : failureComment("Onboarding refused: nothing was written", problems, "Use this bank's own alias; an existing bank's stack is never overwritten.");
}

/** Data accepted, the stack file written, but DevOps must set secrets before it can deploy. */
export function needsSecretsComment(alias: string, shownFile: string, file: string, problems: string[]): AdfDoc {
    return failureComment(`Bank '${alias}': data accepted, stack file ${shownFile} ${file}; waiting for its secrets`, problems,
        "Secrets never travel through Jira. DevOps sets them in the stack file (encrypted), then delivers this ticket again (or runs npm run onboard) to deploy.");
}

/** A step of the rollout failed. */
export function stepFailedComment(alias: string, step: string, problems: string[]): AdfDoc {
    return failureComment(`Onboarding of '${alias}' failed at: ${step}`, problems, "The stack file is kept; DevOps can rerun with `npm run onboard` or deliver the ticket again.");
}

/** A delivery held whole: the stack file changed since it was checked, and it would change a controlled field. */
export function heldComment(alias: string): AdfDoc {
    return doc(heading(3, `Bank '${alias}': nothing applied, nothing deployed`), paragraph("The stack file was not written: this delivery would change a field only DevOps may change (below)."));
}

/** A job that failed after the receiver's 202 (its process crashed or could not start). */
export function jobFailedComment(alias: string, message: string): AdfDoc {
    return failureComment(`Onboarding of '${alias}' failed`, [message], "The delivery was accepted but its job failed; DevOps can rerun it with npm run onboard, or deliver the ticket again.");
}

/** The lines that say which controlled fields were held and how DevOps approve them (comment and terminal alike). */
export function approvalLines(shownFile: string, namespace: string, held: readonly HeldChange[]): { changes: string[]; steps: string[] } {
    return { changes: held.map((h) => `${describeHeld(h)} (not applied: needs DevOps' approval)`), steps: approvalSteps(shownFile, namespace, held) };
}

/** `body` with a section on the held changes appended: what changed (old and new host or address) and how to approve. */
export function withApproval(body: AdfDoc, shownFile: string, namespace: string, held: readonly HeldChange[]): AdfDoc {
    if (held.length === 0) return body;
    const { changes, steps } = approvalLines(shownFile, namespace, held);
    return doc(...body.content,
        heading(4, `Held for DevOps' approval: ${held.map((h) => h.key).join(", ")} (the stack file keeps the old value; nothing uses the new one)`),
        bulletList(changes.map((l) => [l])),
        paragraph("A Jira field, label or transition cannot approve this."),
        bulletList(steps.map((l) => [l])));
}

/** What TicketReporter needs of Jira (JiraClient). */
export interface TicketPoster {
    addComment(ticket: string, body: AdfDoc): Promise<unknown>;
    transitionByName?(ticket: string, name: string): Promise<unknown>;
}

/** How long an identical rejection of a ticket is not commented again. */
const REPEAT_COMMENT_MS = 10 * 60_000;

/**
 * Every post and transition on tickets. A job's result is posted (and the ticket transitioned) before the
 * job ends; the receiver's notices (a rejection at receipt, a job that failed) go in the background and
 * `settle` waits for them at shutdown.
 */
export class TicketReporter {
    private readonly background = new Set<Promise<void>>();
    private readonly said = new Map<string, { said: string; at: number }>();

    constructor(
        private readonly jira: TicketPoster | undefined,
        private readonly transitions: { success?: string; failure?: string } = {},
        private readonly log: Logger = silentLogger,
        private readonly now: () => number = Date.now,
    ) {}

    /** Posts a job's comment and makes its transition; records both on the result. */
    async finish<R extends { status: string; ticket: string; commented?: boolean; transition?: string }>(result: R, body: AdfDoc): Promise<R> {
        if (!this.jira) return result;
        const ticket = result.ticket;
        try {
            await this.jira.addComment(ticket, body);
            result.commented = true;
        } catch (e) {
            result.commented = false;
            this.log.log("error", "jira comment failed", { ticket, error: (e as Error).message });
        }
        const ok = result.status === "succeeded" || result.status === "previewed";
        const name = ok ? this.transitions.success : this.transitions.failure;
        if (name && result.status !== "previewed" && this.jira.transitionByName) {
            try {
                await this.jira.transitionByName(ticket, name);
                result.transition = name;
            } catch (e) {
                this.log.log("error", "jira transition failed", { ticket, transition: name, error: (e as Error).message });
            }
        }
        return result;
    }

    /** A delivery refused at receipt; the same rejection of the same ticket is commented once in a while, not on every delivery. */
    rejected(ticket: string, status: "invalid" | "rejected", problems: string[]): void {
        if (!this.jira) return;
        const said = `${ticket}\n${problems.join("\n")}`;
        const last = this.said.get(ticket);
        if (last && last.said === said && this.now() - last.at < REPEAT_COMMENT_MS) return;
        this.said.set(ticket, { said, at: this.now() });
        if (this.said.size > 10_000) this.said.delete(this.said.keys().next().value!);
        this.post(ticket, rejectionComment(status, problems));
    }

    /** A job that failed after its 202: the ticket hears of it too, not only the job's status page. */
    jobFailed(ticket: string, alias: string, error: unknown): void {
        if (!this.jira) return;
        const message = (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 300);
        this.post(ticket, jobFailedComment(alias, message));
    }

    /** Waits up to `ms` for the background posts. */
    async settle(ms: number): Promise<void> {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all([...this.background]), new Promise<void>((r) => { timer = setTimeout(r, Math.max(0, ms)); })]);
        clearTimeout(timer);
    }

    private post(ticket: string, body: AdfDoc): void {
        const t = this.jira!.addComment(ticket, body).then(() => undefined)
            .catch((e: unknown) => this.log.log("error", "jira comment failed", { ticket, error: (e as Error).message }))
            .finally(() => this.background.delete(t));
        this.background.add(t);
    }
}
