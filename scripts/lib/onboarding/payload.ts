/**
 * What Jira sends: a Jira Automation "Send web request" body (Issue data, Automation format: `key` and
 * `fields` at the top; or Jira format: `{ issue }`), or a Jira webhook (`webhookEvent` plus `issue`).
 */
import { isIssueKey } from "../jira/client";

export interface Delivery {
    /** Where it came from. */
    source: "automation" | "webhook";
    /** The issue key, e.g. DCMOPS-1042. */
    issueKey: string;
    /** The issue's fields as Jira sent them (custom fields as customfield_NNNNN). */
    fields: Record<string, unknown>;
    /** The webhook event name (webhooks only). */
    event?: string;
    /** Field ids (or names) the webhook's changelog says changed (jira:issue_updated only). */
    changedFields?: string[];
    /** When Jira sent it (the body's `timestamp`, ms since 1970; part of the signed body of a webhook). */
    timestamp?: number;
    /**
     * The delivery's place in the ticket's history, for the replay guard (ms since 1970): `timestamp` if the
     * body has one, else the ticket's last edit (`fields.updated`, which Jira's issue data always carries).
     * A delivery not newer than the last one applied is a replay.
     */
    version?: number;
}

/** Webhook events that can start an onboarding; comments and the like never do (our own comment would loop). */
export const TRIGGER_EVENTS: readonly string[] = ["jira:issue_created", "jira:issue_updated"];

/**
 * Why a webhook delivery is not an onboarding trigger, or undefined if it is: an event other than
 * created/updated, or an update that changed none of the mapped fields (e.g. our own comment or transition).
 */
export function ignoredBecause(delivery: Delivery, mappedFields: string[]): string | undefined {
    if (delivery.source !== "webhook") return undefined;
    if (!TRIGGER_EVENTS.includes(delivery.event ?? "")) return `event '${delivery.event}' does not start onboarding (${TRIGGER_EVENTS.join(", ")} do)`;
    if (delivery.event === "jira:issue_updated" && !(delivery.changedFields ?? []).some((f) => mappedFields.includes(f))) {
        return "the update changed none of the onboarding fields";
    }
    return undefined;
}

export type ParsedDelivery = { ok: true; delivery: Delivery } | { ok: false; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Recognises the three body shapes; the message says what is missing. */
export function parseDelivery(body: unknown): ParsedDelivery {
    if (!isObject(body)) return { ok: false, message: "the body must be a JSON object (Jira issue data or a Jira webhook)" };
    const webhookEvent = body.webhookEvent;
    if (webhookEvent !== undefined && typeof webhookEvent !== "string") return { ok: false, message: "'webhookEvent' must be a string" };
    const issue = isObject(body.issue) ? body.issue : body.issue === undefined && webhookEvent === undefined ? body : undefined;
    if (!issue) {
        return { ok: false, message: webhookEvent ? `webhook '${webhookEvent}' carries no 'issue' object` : "'issue' must be an object" };
    }
    const key = issue.key;
    if (typeof key !== "string" || key === "") {
        return { ok: false, message: "the issue has no 'key' (expected Jira issue data with 'key' and 'fields')" };
    }
    if (!isIssueKey(key)) return { ok: false, message: `the issue key '${key.slice(0, 60)}' is not a Jira issue key (PROJECT-123)` };
    if (!isObject(issue.fields)) return { ok: false, message: `issue ${key} has no 'fields' object` };
    const timestamp = body.timestamp;
    if (timestamp !== undefined && !(typeof timestamp === "number" && Number.isSafeInteger(timestamp) && timestamp > 0)) {
        return { ok: false, message: "'timestamp' must be milliseconds since 1970 (as Jira webhooks send it)" };
    }
    const updated = typeof issue.fields.updated === "string" ? Date.parse(issue.fields.updated) : NaN;
    const version = timestamp ?? (Number.isFinite(updated) && updated > 0 ? updated : undefined);
    return {
        ok: true,
        delivery: {
            source: webhookEvent ? "webhook" : "automation",
            issueKey: key,
            fields: issue.fields,
            ...(webhookEvent ? { event: webhookEvent, changedFields: changed(body.changelog) } : {}),
            ...(timestamp !== undefined ? { timestamp } : {}),
            ...(version !== undefined ? { version } : {}),
        },
    };
}

function changed(changelog: unknown): string[] {
    const items = isObject(changelog) && Array.isArray(changelog.items) ? changelog.items : [];
    return items.flatMap((i: unknown) => (isObject(i) ? [i.fieldId, i.field].filter((f): f is string => typeof f === "string") : []));
}
