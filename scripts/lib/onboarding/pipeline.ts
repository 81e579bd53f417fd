/**
 * One onboarding, end to end, in one pass: the delivery is prepared once (precheck: the ticket's
 * data validated over the bank's stack file as it is, its ownership, the controlled changes held), and the
 * job uses that preparation as it is: write the stack file (the writer's own guard refuses a file that
 * changed in between), create or select the stack, preview, up, run the post-deploy checks and report on
 * the ticket (comment.ts). Every failure is commented with the field or step that failed; nothing is
 * written on invalid data; a controlled field (change-control.ts) is never changed on the ticket's word.
 */
import * as path from "node:path";
import { CONFIG_KEYS, StackSettings } from "../../../domain/config";
import type { AdfDoc } from "../jira/adf";
import { StackBackend, StackLockedError, StackOutput } from "../engine/stack-backend";
import { loadStackConfig, ProjectFile } from "../engine/stack-config";
import { ChangeControlError, HeldChange, NEEDS_APPROVAL } from "./change-control";
import { approvalLines, CheckReportLike, heldComment, needsSecretsComment, previewComment, rejectionComment, resultComment, secretStrings, stepFailedComment, TicketReporter, withApproval } from "./comment";
import { Logger, silentLogger } from "./log";
import type { ReplayGuard } from "./delivery-state";
import { fieldText, formatDataProblems, Mapping, mappedDelivery, prepareData } from "./mapping";
import type { Delivery } from "./payload";
import { checkOwnership, Ownership, OwnershipError, WriteOutcome, writeStackFile } from "./stack-file";
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
    /** Every comment and transition on the ticket; none with --no-comment. */
    reporter?: TicketReporter;
    /** The post-deploy checks; none skips them (noted in the comment). */
    checks?: RunChecks;
    /** Preview only: no up, no checks. */
    dryRun?: boolean;
    log?: Logger;
    /** Engine output and step lines, as they happen. */
    onProgress?: (line: string) => void;
    /** The replay guard: a delivery not newer than the last one applied to its bank is not applied. */
    replay?: ReplayGuard;
}

export type OnboardingStatus = "succeeded" | "previewed" | "invalid" | "rejected" | "stale" | "needs-secrets" | typeof NEEDS_APPROVAL | "failed" | "checks-failed";

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
    /** Controlled fields the delivery would have changed, not applied (status needs-approval). */
    held?: HeldChange[];
    /** How DevOps approve the held changes (the same lines as the comment). */
    approval?: string[];
}

/** One delivery, prepared once: everything the job needs, used as it is (it crosses to the job's process as JSON). */
export interface PreparedOnboarding {
    ticket: string;
    alias: string;
    /** The delivery as the job receives it: only the mapped fields' text (mappedDelivery). */
    delivery: Delivery;
    /** The ticket's values to write (held controlled keys left out: the file keeps its own). */
    values: Record<string, string>;
    /** The validated settings (secrets still to be set count as present). */
    settings: StackSettings;
    /** Secret keys DevOps must still set before the stack can deploy. */
    pendingSecrets: string[];
    /** The stack file as it was when the delivery was checked. */
    ownership: Ownership;
    /** Controlled keys the ticket would change: not applied (change-control.ts). */
    held: HeldChange[];
}

export type Precheck =
    | { ok: true; alias: string; prepared: PreparedOnboarding }
    | { ok: false; alias?: string; status: "invalid" | "rejected"; problems: string[] };

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The one pass over a delivery (the receiver's fast path, and the first step of `npm run onboard`): the
 * alias' ownership and the stack file as it is (checkOwnership, once), the ticket's data validated over it
 * (prepareData, once). Writes nothing. Invalid data is reported before a taken alias, as a person fixes it.
 */
export function precheck(delivery: Delivery, deps: Pick<OnboardingDeps, "project" | "mapping">): Precheck {
    const aliasField = deps.mapping.fields.alias;
    const aliasText = aliasField ? fieldText(delivery.fields[aliasField.field]).text : undefined;
    let ownership: Ownership = { exists: false, existing: {} };
    let refused: OwnershipError | undefined;
    // Only a DNS label names a file inside the stack directory; any other alias is invalid data below.
    if (aliasText !== undefined && DNS_LABEL.test(aliasText)) {
        try {
            ownership = checkOwnership(deps.project, aliasText, delivery.issueKey);
        } catch (e) {
            if (!(e instanceof OwnershipError)) throw e;
            refused = e;
        }
    }
    const data = prepareData(delivery, deps.mapping, deps.project, ownership.existing, ownership.exists);
    if (!data.ok) return { ok: false, alias: data.alias, status: "invalid", problems: formatDataProblems(data.problems, deps.project.name) };
    if (refused) return { ok: false, alias: data.alias, status: "rejected", problems: [`${deps.project.name}:alias: ${refused.message}`] };
    return {
        ok: true,
        alias: data.alias,
        prepared: {
            ticket: delivery.issueKey, alias: data.alias,
            // The job gets only the mapped fields' text: nothing else of the body reaches its process.
            delivery: mappedDelivery(delivery, deps.mapping),
            values: data.bank, settings: data.settings, pendingSecrets: data.pendingSecrets, ownership, held: data.held,
        },
    };
}

/** `npm run onboard`: prepares the delivery, then runs it. */
export async function onboard(delivery: Delivery, deps: OnboardingDeps): Promise<OnboardingResult> {
    const pre = precheck(delivery, deps);
    if (!pre.ok) {
        (deps.log ?? silentLogger).log("warn", "onboarding data rejected", { ticket: delivery.issueKey, alias: pre.alias, status: pre.status, problems: pre.problems });
        return finish(deps, { status: pre.status, ticket: delivery.issueKey, alias: pre.alias, problems: pre.problems }, rejectionComment(pre.status, pre.problems));
    }
    return runOnboarding(pre.prepared, deps);
}

function finish(deps: OnboardingDeps, result: OnboardingResult, body: AdfDoc): Promise<OnboardingResult> {
    return deps.reporter ? deps.reporter.finish(result, body) : Promise.resolve(result);
}

/** The job: one prepared delivery, as it was prepared (no second validation; the writer guards the file). */
export async function runOnboarding(prepared: PreparedOnboarding, deps: OnboardingDeps): Promise<OnboardingResult> {
    const log = deps.log ?? silentLogger;
    const { ticket, alias, delivery } = prepared;
    const progress = (line: string) => deps.onProgress?.(line);
    const shownFile = path.relative(deps.project.dir, path.join(deps.project.stackConfigDir, `Pulumi.${alias}.yaml`));
    // The held changes' section goes on every comment of this job, whatever else it says.
    const comment = (result: OnboardingResult, body: AdfDoc): Promise<OnboardingResult> => {
        const held = result.held ?? [];
        if (held.length > 0) {
            const { changes, steps } = approvalLines(shownFile, deps.project.name, held);
            result.problems.push(...changes);
            result.approval = steps;
            if (result.status === "succeeded" || result.status === "previewed") result.status = NEEDS_APPROVAL;
        }
        return finish(deps, result, withApproval(body, shownFile, deps.project.name, held));
    };
    // Jobs of one bank run one at a time, so this check and the record below cannot interleave with another's.
    const stale = delivery.version !== undefined ? deps.replay?.staleBecause(alias, ticket, delivery.version) : undefined;
    if (stale) {
        // A replay: nothing is written and the ticket is not commented (a replayer must not make us post).
        log.log("warn", "older delivery not applied", { ticket, alias, reason: stale });
        return { status: "stale", ticket, alias, problems: [stale] };
    }
    const held = prepared.held;
    if (held.length > 0) log.log("warn", "controlled fields held for approval", { ticket, alias, held });
    let file: WriteOutcome;
    try {
        file = writeStackFile(deps.project, alias, ticket, prepared.values, prepared.values.displayName, deps.mapping.defaults);
    } catch (e) {
        if (e instanceof ChangeControlError) {
            // The file changed since the check (another delivery created it): its values stand, nothing is written.
            log.log("warn", "controlled fields held for approval", { ticket, alias, held: e.held });
            return comment({ status: NEEDS_APPROVAL, ticket, alias, problems: [], held: e.held }, heldComment(alias));
        }
        if (!(e instanceof OwnershipError)) throw e;
        const problems = [`${deps.project.name}:alias: ${e.message}`];
        return comment({ status: "rejected", ticket, alias, problems }, rejectionComment("rejected", problems));
    }
    if (delivery.version !== undefined) deps.replay?.recordApplied(alias, { ticket, timestamp: delivery.version });
    log.log("info", "stack file written", { ticket, alias, file: shownFile, outcome: file });
    progress(`stack file ${shownFile}: ${file}`);

    const hosts = prepared.settings.hosts;
    if (prepared.pendingSecrets.length > 0) {
        const problems = prepared.pendingSecrets.map((k) => `${deps.project.name}:${k} is not set yet: ${CONFIG_KEYS[k].secret ? `pulumi config set --secret -s ${alias} ${k} <value>` : `pulumi config set --path -s ${alias} '${k}[0]' <address>/32`} (${CONFIG_KEYS[k].doc})`);
        log.log("info", "onboarding waits for secrets", { ticket, alias, secrets: prepared.pendingSecrets });
        return comment({ status: "needs-secrets", ticket, alias, file, problems, hosts, held }, needsSecretsComment(alias, shownFile, file, problems));
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
            const result: OnboardingResult = { status: "previewed", ticket, alias, file, problems: [], changes: planned, hosts, held };
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
            hosts: { backoffice: publicString(outputs.backofficeHost), api: publicString(outputs.apiHost) }, held,
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
        return comment({ status: "failed", ticket, alias, file, problems, held }, stepFailedComment(alias, step, problems));
    }
}

function publicString(o: StackOutput | undefined): string | undefined {
    return o && !o.secret && typeof o.value === "string" ? o.value : undefined;
}

/** The first lines of an engine error, short enough for a comment. */
function firstLines(message: string): string {
    return message.split("\n").slice(0, 6).join(" | ").slice(0, 600);
}
