/**
 * One onboarding, end to end: validate the ticket's data, write the bank's stack file, create or select
 * the stack, preview, up, run the post-deploy checks and report on the ticket. Every failure is
 * commented on the ticket with the field or step that failed; nothing is written on invalid data.
 */
import * as path from "node:path";
import { CONFIG_KEYS } from "../../../domain/config";
import type { AdfDoc } from "../jira/adf";
import { JiraClient } from "../jira/client";
import { StackBackend, StackLockedError, StackOutput } from "../engine/stack-backend";
import { loadStackConfig, ProjectFile } from "../engine/stack-config";
import { CheckReportLike, failureComment, previewComment, resultComment, secretStrings } from "./comment";
import { Logger, silentLogger } from "./log";
import type { AppliedDeliveries } from "./delivery-state";
import { formatDataProblems, Mapping, mappedDelivery, prepareData } from "./mapping";
import type { Delivery } from "./payload";
import { checkOwnership, OwnershipError, WriteOutcome, writeStackFile } from "./stack-file";
import { prepareWorkspace } from "./workspace";

/** Runs the post-deploy checks on a deployed stack's plain outputs. */
export type RunChecks = (stack: string, outputs: Record<string, unknown>, options?: { allowPrivateKeyKeeper?: boolean }) => Promise<CheckReportLike>;

export interface OnboardingDeps {
    project: ProjectFile;
    mapping: Mapping;
    /** The Automation API for a stack's workspace directory. */
    backendFor: (workspaceDir: string) => StackBackend;
    /** Directory holding one workspace directory per stack. */
    workspacesDir: string;
    /** Where comments and transitions go; none with --no-comment. */
    jira?: JiraClient;
    /** The post-deploy checks; none skips them (noted in the comment). */
    checks?: RunChecks;
    /** Preview only: no up, no checks. */
    dryRun?: boolean;
    log?: Logger;
    /** Engine output and step lines, as they happen. */
    onProgress?: (line: string) => void;
    /** The last delivery applied per bank: an older delivery of the same ticket is not applied (replays). */
    applied?: AppliedDeliveries;
}

export type OnboardingStatus = "succeeded" | "previewed" | "invalid" | "rejected" | "stale" | "needs-secrets" | "failed" | "checks-failed";

export interface OnboardingResult {
    status: OnboardingStatus;
    ticket: string;
    alias?: string;
    /** What happened to the stack file. */
    file?: WriteOutcome;
    /** One line per problem (invalid data, ownership, a failed step). */
    problems: string[];
    changes?: Record<string, number | undefined>;
    checks?: CheckReportLike;
    /** Public outputs only. */
    hosts?: { backoffice?: string; api?: string };
    /** Whether the comment reached Jira (undefined: none was to be posted). */
    commented?: boolean;
    /** The transition made, if any. */
    transition?: string;
}

/** Checks a delivery's data and the alias' ownership without writing anything (the receiver's fast path). */
export function precheck(delivery: Delivery, deps: Pick<OnboardingDeps, "project" | "mapping">): { ok: true; alias: string; delivery: Delivery } | { ok: false; alias?: string; status: "invalid" | "rejected"; problems: string[] } {
    const data = prepareData(delivery, deps.mapping, deps.project);
    if (!data.ok) return { ok: false, alias: data.alias, status: "invalid", problems: formatDataProblems(data.problems, deps.project.name) };
    try {
        const owned = checkOwnership(deps.project, data.alias, delivery.issueKey);
        const again = prepareData(delivery, deps.mapping, deps.project, owned.existing);
        if (!again.ok) return { ok: false, alias: data.alias, status: "invalid", problems: formatDataProblems(again.problems, deps.project.name) };
    } catch (e) {
        if (e instanceof OwnershipError) return { ok: false, alias: data.alias, status: "rejected", problems: [`${deps.project.name}:alias: ${e.message}`] };
        throw e;
    }
    // The job gets only the mapped fields' text: nothing else of the body reaches its process.
    return { ok: true, alias: data.alias, delivery: mappedDelivery(delivery, deps.mapping) };
}

/** The comment for data that cannot be onboarded. */
export function rejectionComment(status: "invalid" | "rejected", problems: string[]): AdfDoc {
    return status === "invalid"
        ? failureComment("Onboarding data is invalid: nothing was created", problems, "Correct the field(s) named above on this ticket; the next delivery of the ticket starts over.")
        : failureComment("Onboarding refused: nothing was written", problems, "Use this bank's own alias; an existing bank's stack is never overwritten.");
}

export async function onboard(delivery: Delivery, deps: OnboardingDeps): Promise<OnboardingResult> {
    const log = deps.log ?? silentLogger;
    const ticket = delivery.issueKey;
    const progress = (line: string) => deps.onProgress?.(line);
    const comment = async (result: OnboardingResult, body: AdfDoc): Promise<OnboardingResult> => {
        if (!deps.jira) return result;
        try {
            await deps.jira.addComment(ticket, body);
            result.commented = true;
        } catch (e) {
            result.commented = false;
            log.log("error", "jira comment failed", { ticket, error: (e as Error).message });
        }
        const ok = result.status === "succeeded" || result.status === "previewed";
        const name = ok ? deps.mapping.transitions.success : deps.mapping.transitions.failure;
        if (name && result.status !== "previewed") {
            try {
                await deps.jira.transitionByName(ticket, name);
                result.transition = name;
            } catch (e) {
                log.log("error", "jira transition failed", { ticket, transition: name, error: (e as Error).message });
            }
        }
        return result;
    };

    const pre = precheck(delivery, deps);
    if (!pre.ok) {
        log.log("warn", "onboarding data rejected", { ticket, alias: pre.alias, status: pre.status, problems: pre.problems });
        return comment({ status: pre.status, ticket, alias: pre.alias, problems: pre.problems }, rejectionComment(pre.status, pre.problems));
    }
    const alias = pre.alias;
    const prepared = prepareData(delivery, deps.mapping, deps.project, checkOwnership(deps.project, alias, ticket).existing);
    if (!prepared.ok) throw new Error("data changed between checks");
    // Jobs of one bank run one at a time, so this check and the record below cannot interleave with another's.
    const stale = delivery.timestamp !== undefined ? deps.applied?.staleBecause(alias, ticket, delivery.timestamp) : undefined;
    if (stale) {
        // A replay: nothing is written and the ticket is not commented (a replayer must not make us post).
        log.log("warn", "older delivery not applied", { ticket, alias, reason: stale });
        return { status: "stale", ticket, alias, problems: [stale] };
    }
    let file: WriteOutcome;
    try {
        file = writeStackFile(deps.project, alias, ticket, prepared.bank, prepared.bank.displayName, deps.mapping.defaults);
    } catch (e) {
        if (!(e instanceof OwnershipError)) throw e;
        const problems = [`${deps.project.name}:alias: ${e.message}`];
        return comment({ status: "rejected", ticket, alias, problems }, rejectionComment("rejected", problems));
    }
    if (delivery.timestamp !== undefined) deps.applied?.record(alias, { ticket, timestamp: delivery.timestamp });
    const shownFile = path.relative(deps.project.dir, path.join(deps.project.stackConfigDir, `Pulumi.${alias}.yaml`));
    log.log("info", "stack file written", { ticket, alias, file: shownFile, outcome: file });
    progress(`stack file ${shownFile}: ${file}`);

    const hosts = prepared.settings.hosts;
    if (prepared.pendingSecrets.length > 0) {
        const problems = prepared.pendingSecrets.map((k) => `${deps.project.name}:${k} is not set yet: ${CONFIG_KEYS[k].secret ? `pulumi config set --secret -s ${alias} ${k} <value>` : `pulumi config set --path -s ${alias} '${k}[0]' <address>/32`} (${CONFIG_KEYS[k].doc})`);
        log.log("info", "onboarding waits for secrets", { ticket, alias, secrets: prepared.pendingSecrets });
        return comment({ status: "needs-secrets", ticket, alias, file, problems, hosts },
            failureComment(`Bank '${alias}': data accepted, stack file ${shownFile} ${file}; waiting for its secrets`, problems,
                "Secrets never travel through Jira. DevOps sets them in the stack file (encrypted), then delivers this ticket again (or runs npm run onboard) to deploy."));
    }
    let step = "read the stack file";
    try {
        // As the offline render does: a secure: value copied from another bank's file is refused here, for the CLI too.
        loadStackConfig(deps.project, alias);
        step = "select the stack";
        const backend = deps.backendFor(prepareWorkspace(deps.project, alias, deps.workspacesDir));
        const stack = await backend.selectOrCreate(alias);
        step = "preview";
        progress(`previewing ${alias}`);
        const planned = await stack.preview(progress);
        if (deps.dryRun) {
            const result: OnboardingResult = { status: "previewed", ticket, alias, file, problems: [], changes: planned, hosts };
            log.log("info", "onboarding previewed", { ticket, alias, changes: planned });
            return comment(result, previewComment(alias, shownFile, hosts, planned));
        }
        step = "up";
        progress(`deploying ${alias}`);
        const changes = await stack.up(progress);
        step = "read the outputs";
        const outputs = await stack.outputs();
        log.redact(secretStrings(outputs));
        const plain = Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.value]));
        let checks: CheckReportLike | undefined;
        let checksNote: string | undefined;
        if (deps.checks) {
            progress(`checking ${alias}`);
            try {
                checks = await deps.checks(alias, plain, { allowPrivateKeyKeeper: prepared.settings.platform.allowPrivateKeyKeeper });
            } catch (e) {
                // The stack is deployed: report it, with the reason the checks could not run.
                checksNote = `could not run: ${firstLines((e as Error).message)}`;
                log.log("error", "post-deploy checks could not run", { ticket, alias, error: checksNote });
            }
        } else checksNote = "skipped (no checks configured for this run)";
        const result: OnboardingResult = {
            status: (checks && !checks.passed) || (deps.checks && !checks) ? "checks-failed" : "succeeded",
            ticket, alias, file, problems: [], changes, checks,
            hosts: { backoffice: publicString(outputs.backofficeHost), api: publicString(outputs.apiHost) },
        };
        if (checksNote && deps.checks) result.problems.push(`post-deploy checks ${checksNote}`);
        log.log("info", "onboarding finished", { ticket, alias, status: result.status, changes, checksPassed: checks?.passed });
        return comment(result, resultComment({ stack: alias, file: `${shownFile} (${file})`, outputs, changes, checks, checksNote }));
    } catch (e) {
        const message = e instanceof StackLockedError
            ? `${e.message}; another update of this bank is running, deliver the ticket again once it has finished`
            : firstLines((e as Error).message);
        const problems = [`could not ${step} for stack '${alias}': ${message}`];
        log.log("error", "onboarding failed", { ticket, alias, step, error: message });
        return comment({ status: "failed", ticket, alias, file, problems }, failureComment(`Onboarding of '${alias}' failed at: ${step}`, problems, "The stack file is kept; DevOps can rerun with `npm run onboard` or deliver the ticket again."));
    }
}

function publicString(o: StackOutput | undefined): string | undefined {
    return o && !o.secret && typeof o.value === "string" ? o.value : undefined;
}

/** The first lines of an engine error, short enough for a comment. */
function firstLines(message: string): string {
    return message.split("\n").slice(0, 6).join(" | ").slice(0, 600);
}
