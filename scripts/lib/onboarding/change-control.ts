/**
 * Change control of an existing bank: the settings that say where DCM sends secrets or tokens, or who
 * receives the first login, are never changed by a ticket's word. Whoever can edit the Jira ticket could
 * otherwise point DCM's tokens at a host of their own (keyKeeperUrl) or take the first employee's recovery
 * link (firstEmployeeEmail). Once the bank's stack file exists, a delivery that changes one of them is held:
 * the file keeps the old value, nothing is deployed or checked against the new one, and DevOps approves
 * the change outside Jira (docs/jira.md#change-control), never by a Jira field, label or transition.
 *
 * Why only these two: of the keys a Jira field can fill (mapping.ts MAPPABLE_KEYS), `alias` cannot change
 * at all (stack-file.ts ownership), and displayName, assetCode and activeSigningKey direct nothing
 * anywhere. Every other address the bank's pods may reach (kratosDatabaseCidrs, kratosSmtpCidrs,
 * apiServerCidr) and every secret is DevOps' setting, never a Jira field (mapping.ts refuses them).
 */

/** Keys a delivery may set on a new bank but never change on an existing one. */
export const CONTROLLED_KEYS: readonly string[] = ["keyKeeperUrl", "firstEmployeeEmail"];

/** One held change: the key, and the old and new value as they may be shown (host or address, never a secret). */
export interface HeldChange {
    key: string;
    /** The stack file's value as shown (undefined: the file has none). */
    from?: string;
    /** The ticket's value as shown. */
    to: string;
}

/** The status a delivery with held changes ends with. */
export const NEEDS_APPROVAL = "needs-approval";

/**
 * A value as a comment or a terminal may show it: a URL's scheme, host and path (a query may hold a
 * token; credentials are refused by validation, dropped here anyway), an email address as it is; any
 * character a log or comment parser treats specially escaped (JSON string rules), at most 200 characters.
 */
export function shownValue(key: string, value: string): string {
    let shown = value;
    if (key === "keyKeeperUrl") {
        try {
            const url = new URL(value);
            shown = `${url.protocol}//${url.host}${url.pathname}`;
        } catch {
            shown = value.replace(/[?#].*$/s, "");
        }
    }
    return JSON.stringify(shown.slice(0, 200)).slice(1, -1);
}

/**
 * The controlled keys a ticket's values would change in an existing stack file (`existing`: its config,
 * keyed without namespace). Empty for a new file: the first delivery sets them.
 */
export function heldChanges(exists: boolean, existing: Record<string, unknown>, ticket: Record<string, string>): HeldChange[] {
    if (!exists) return [];
    const held: HeldChange[] = [];
    for (const key of CONTROLLED_KEYS) {
        const to = ticket[key];
        if (to === undefined) continue;
        const current = existing[key];
        if (typeof current === "string" && current === to) continue;
        held.push({ key, ...(typeof current === "string" ? { from: shownValue(key, current) } : {}), to: shownValue(key, to) });
    }
    return held;
}

/** `keyKeeperUrl: https://old.example/keeper -> https://new.example/keeper`. */
export function describeHeld(h: HeldChange): string {
    return `${h.key}: ${h.from ?? "(not set)"} -> ${h.to}`;
}

/** Exactly how DevOps approve held changes (the same words in the comment, the output and docs/jira.md). */
export function approvalSteps(stackFile: string, namespace: string, held: readonly HeldChange[]): string[] {
    return [
        `Confirm the change with the bank through a channel other than this ticket (its registered contact); a ticket edit alone never changes ${held.map((h) => h.key).join(" or ")}.`,
        `Approve: set ${held.map((h) => `${namespace}:${h.key}`).join(" and ")} in ${stackFile} to the new value through a reviewed merge request (its approval records who approved and when), then deploy that commit to the onboarding host.`,
        "Then deliver the ticket again (or run npm run onboard): the stack file then holds the new value and the delivery deploys it.",
    ];
}

/** Thrown by the stack-file writer when the file on disk would change a controlled key (it changed since the check). */
export class ChangeControlError extends Error {
    constructor(public readonly held: HeldChange[]) {
        super(`a delivery may not change ${held.map(describeHeld).join("; ")} of an existing bank without DevOps' approval`);
        this.name = "ChangeControlError";
    }
}
