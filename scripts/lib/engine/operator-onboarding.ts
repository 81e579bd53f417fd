/**
 * Onboarding on the operator engine (`serve`/`onboard` `--engine operator`). A delivery the receiver accepts is made
 * durable before its 202: the bank's Stack object is created or updated in the cluster (server-side apply), holding
 * the ticket's data as config and the ticket in annotations, so a receiver that dies afterwards loses nothing: the
 * operator has the bank, and the next start finds the unfinished job in the Stack. The job then writes the stack
 * file, renders the bank for its workspace's rights and applies them with the Stack; progress is the Stack's status.
 */
import * as path from "node:path";
import { spawn } from "node:child_process";
import type { AdfDoc } from "../jira/adf";
import { bulletList, codeBlock, doc, heading, paragraph, text } from "../jira/adf";
import { kubernetesObjects } from "./manifests";
import { runOffline } from "./offline-run";
import type { ProjectFile } from "./stack-config";
import { failureComment } from "../onboarding/comment";
import type { Logger } from "../onboarding/log";
import { silentLogger } from "../onboarding/log";
import { Mapping, prepareData } from "../onboarding/mapping";
import type { Delivery } from "../onboarding/payload";
import { NEEDS_APPROVAL } from "../onboarding/change-control";
import type { OnboardingResult } from "../onboarding/pipeline";
import { checkOwnership, writeStackFile } from "../onboarding/stack-file";
import { operatorObjects, StackExtras } from "./operator";
import { formatViolations, operatorPolicyViolations } from "./operator-policy";
import { applyServerSide, ApplyTarget, bankSettings } from "./operator-render";

/** Annotations on an onboarded bank's Stack: the durable record of its job. */
export const ONBOARDING = {
    ticket: "dcm.example.com/jira-ticket",
    timestamp: "dcm.example.com/delivery-timestamp",
    /** `accepted` (before the 202: the Stack holds the data), `handed-over` (the job applied the workspace's rights). */
    phase: "dcm.example.com/onboarding",
} as const;

/** A Stack's progress, as its status says. */
export interface StackProgress {
    alias: string;
    ticket?: string;
    phase?: string;
    /** `waiting` (no status yet), `running`, `succeeded`, `failed` or `stalled`. */
    state: "waiting" | "running" | "succeeded" | "failed" | "stalled";
    /** The condition's reason and message, or the last update's. */
    detail: string;
}

/** Reads a Stack object's status the way `kubectl get stack` users read it: Ready, Stalled, Reconciling, lastUpdate. */
export function progressOf(stack: { metadata: { name: string; annotations?: Record<string, string> }; status?: Record<string, any> }): StackProgress {
    const conditions = (stack.status?.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[];
    const cond = (t: string) => conditions.find((c) => c.type === t && c.status === "True");
    const last = stack.status?.lastUpdate as { state?: string; message?: string } | undefined;
    const base = { alias: stack.metadata.name, ticket: stack.metadata.annotations?.[ONBOARDING.ticket], phase: stack.metadata.annotations?.[ONBOARDING.phase] };
    const say = (c?: { reason?: string; message?: string }) => [c?.reason, c?.message].filter(Boolean).join(": ").slice(0, 300);
    if (cond("Ready")) return { ...base, state: "succeeded", detail: say(cond("Ready")) || "ready" };
    if (cond("Stalled")) return { ...base, state: "stalled", detail: say(cond("Stalled")) };
    if (last?.state === "failed") return { ...base, state: "failed", detail: (last.message ?? "the last update failed").slice(0, 300) };
    if (cond("Reconciling")) return { ...base, state: "running", detail: say(cond("Reconciling")) };
    return { ...base, state: "waiting", detail: "no status yet: the operator has not picked the Stack up" };
}

export interface OperatorOnboardingOptions {
    project: ProjectFile;
    mapping: Mapping;
    /** The program's commit the Stacks pin. */
    commit: string;
    /** kubectl and its environment (KUBECONFIG). */
    target?: ApplyTarget;
    log?: Logger;
    /** Posts a comment on the ticket. */
    comment?: (ticket: string, body: AdfDoc) => Promise<void>;
}

export class OperatorOnboarding {
    private readonly log: Logger;
    constructor(private readonly o: OperatorOnboardingOptions) {
        this.log = o.log ?? silentLogger;
    }

    /** The namespace of the Stacks (the platform setting). */
    get namespace(): string {
        return String(this.o.project.defaults.operatorNamespace);
    }

    /** Where a DevOps engineer follows a bank: the command, for the ticket and the logs. */
    followCommand(alias: string): string {
        return `kubectl -n ${this.namespace} get stack ${alias} -o jsonpath='{.status.conditions}'`;
    }

    private prepared(delivery: Delivery) {
        const owned = (() => {
            const first = prepareData(delivery, this.o.mapping, this.o.project);
            if (!first.ok) throw new Error(`the delivery's data is invalid: ${first.problems.map((p) => p.key).join(", ")}`);
            return checkOwnership(this.o.project, first.alias, delivery.issueKey);
        })();
        const data = prepareData(delivery, this.o.mapping, this.o.project, owned.existing);
        if (!data.ok) throw new Error(`the delivery's data is invalid: ${data.problems.map((p) => p.key).join(", ")}`);
        return data;
    }

    private extras(delivery: Delivery, bank: Record<string, string>, phase: string): StackExtras {
        return {
            config: { ...bank },
            annotations: { [ONBOARDING.ticket]: delivery.issueKey, [ONBOARDING.phase]: phase, ...(delivery.timestamp !== undefined ? { [ONBOARDING.timestamp]: String(delivery.timestamp) } : {}) },
        };
    }

    /**
     * Before the 202: the bank's Stack, created or updated in the cluster with the delivery's data. Throws when the
     * cluster does not take it; the receiver then answers 503 and the delivery is not accepted.
     */
    async accept(alias: string, delivery: Delivery): Promise<string> {
        const data = this.prepared(delivery);
        const stack = operatorObjects(data.settings, [], { commit: this.o.commit }, this.extras(delivery, data.bank, "accepted")).objects.filter((x) => x.kind === "Stack");
        const violations = operatorPolicyViolations(stack);
        if (violations.length) throw new Error(formatViolations(violations));
        await applyServerSide(stack, this.o.target);
        this.log.log("info", "stack object applied before the acknowledgement", { ticket: delivery.issueKey, alias, stack: `${this.namespace}/${alias}` });
        return `${this.namespace}/${alias}`;
    }

    /** The job: the stack file, the render, the workspace's rights and the Stack (handed over); the ticket says where to follow. */
    async job(delivery: Delivery): Promise<OnboardingResult> {
        const ticket = delivery.issueKey;
        const data = this.prepared(delivery);
        const alias = data.alias;
        try {
            const file = writeStackFile(this.o.project, alias, ticket, data.bank, data.bank.displayName, this.o.mapping.defaults);
            const settings = bankSettings(this.o.project, alias);
            if (!settings.ok) throw new Error(settings.message);
            const rendered = await runOffline({ stack: alias, projectDir: this.o.project.dir, typecheck: false });
            if (!rendered.ok) throw new Error(`the offline render failed: ${rendered.error.split("\n")[0]}`);
            const bank = operatorObjects(settings.settings, kubernetesObjects(rendered.resources), { commit: this.o.commit }, this.extras(delivery, data.bank, "handed-over"));
            const violations = operatorPolicyViolations(bank.objects);
            if (violations.length) throw new Error(formatViolations(violations));
            await applyServerSide(bank.objects, this.o.target);
            const progress = await this.progress(alias);
            const problems = data.pendingSecrets.map((k) => `${this.o.project.name}:${k} is not set yet: the operator's update fails until DevOps sets it in the stack file and commits`);
            const result: OnboardingResult = {
                // Held controlled changes (change-control.ts) were left out of the file and the Stack: DevOps approve them.
                status: data.held.length ? NEEDS_APPROVAL : problems.length ? "needs-secrets" : "succeeded", ticket, alias, file, problems, held: data.held,
                hosts: { backoffice: data.settings.hosts.backoffice, api: data.settings.hosts.api },
            };
            this.log.log("info", "bank handed to the operator", { ticket, alias, state: progress?.state });
            await this.say(ticket, handedOverComment(alias, path.relative(this.o.project.dir, path.join(this.o.project.stackConfigDir, `Pulumi.${alias}.yaml`)), this.o.commit, this.followCommand(alias), problems));
            return result;
        } catch (e) {
            const message = (e as Error).message.split("\n").slice(0, 4).join(" | ").slice(0, 600);
            this.log.log("error", "operator onboarding failed", { ticket, alias, error: message });
            await this.say(ticket, failureComment(`Onboarding of '${alias}' on the operator failed`, [message], `The bank's Stack object holds the ticket's data (${this.namespace}/${alias}); the receiver retries it on its next start, or deliver the ticket again.`));
            return { status: "failed", ticket, alias, problems: [message] };
        }
    }

    /** A bank's Stack progress, or undefined when it has no Stack. */
    async progress(alias: string): Promise<StackProgress | undefined> {
        const r = await kubectlJson(["get", "stacks.pulumi.com", alias, "-n", this.namespace], this.o.target);
        return r ? progressOf(r as never) : undefined;
    }

    /**
     * On start: every onboarded Stack's progress (logged: the jobs a dead receiver left are reported from the Stacks'
     * status), and the deliveries of those still only `accepted`, rebuilt from the data their Stack holds, to run again.
     */
    async resume(): Promise<{ reported: StackProgress[]; deliveries: Delivery[] }> {
        const r = await kubectlJson(["get", "stacks.pulumi.com", "-n", this.namespace, "-l", "app.kubernetes.io/managed-by=dcm-fleet"], this.o.target);
        const items = ((r as { items?: unknown[] } | undefined)?.items ?? []) as (Parameters<typeof progressOf>[0] & { spec?: { config?: Record<string, string> } })[];
        const onboarded = items.filter((s) => s.metadata.annotations?.[ONBOARDING.ticket]);
        const reported = onboarded.map(progressOf).sort((a, b) => a.alias.localeCompare(b.alias));
        for (const p of reported) this.log.log("info", "onboarding job from the Stack's status", { ticket: p.ticket, alias: p.alias, phase: p.phase, state: p.state, detail: p.detail, follow: this.followCommand(p.alias) });
        const deliveries = onboarded.filter((s) => s.metadata.annotations?.[ONBOARDING.phase] === "accepted").map((s) => {
            const fields: Record<string, unknown> = {};
            for (const [key, m] of Object.entries(this.o.mapping.fields)) {
                const v = s.spec?.config?.[key];
                if (m && v !== undefined) fields[m.field] = v;
            }
            const ts = Number(s.metadata.annotations?.[ONBOARDING.timestamp]);
            return { source: "automation", issueKey: s.metadata.annotations![ONBOARDING.ticket], fields, ...(Number.isFinite(ts) ? { timestamp: ts } : {}) } as Delivery;
        });
        return { reported, deliveries };
    }

    private async say(ticket: string, body: AdfDoc): Promise<void> {
        if (!this.o.comment) return;
        try {
            await this.o.comment(ticket, body);
        } catch (e) {
            this.log.log("error", "jira comment failed", { ticket, error: (e as Error).message });
        }
    }
}

/** The ticket's comment once the bank is the operator's: where its progress shows. */
export function handedOverComment(alias: string, file: string, commit: string, follow: string, problems: string[]): AdfDoc {
    return doc(
        heading(3, `Bank '${alias}' handed to the Pulumi Kubernetes Operator`),
        paragraph(`Stack file ${file}; program at commit ${commit.slice(0, 12)}. The operator deploys it, refreshes it every resync period and retries on failure.`),
        paragraph(text("Follow it here (the Stack's status: Ready, Reconciling, Stalled):", ["strong"])),
        codeBlock(follow, "shell"),
        ...(problems.length ? [bulletList(problems.map((p) => [p]))] : []),
    );
}

/** kubectl get ... -o json, or undefined when the object does not exist; rejects on any other failure. */
function kubectlJson(args: string[], target: ApplyTarget = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
        const child = spawn(target.kubectl ?? "kubectl", [...args, "-o", "json"], { env: target.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
        child.stderr.on("data", (d: Buffer) => { err += d.toString(); });
        child.on("error", (e) => reject(new Error(`kubectl could not start: ${e.message}`)));
        child.on("close", (code) => {
            if (code === 0) resolve(JSON.parse(out));
            else if (/NotFound|not found/.test(err)) resolve(undefined);
            else reject(new Error(`kubectl ${args.join(" ")} failed: ${err.trim().split("\n")[0]}`));
        });
    });
}
