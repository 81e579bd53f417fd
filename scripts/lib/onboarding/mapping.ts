/**
 * The mapping file (jira-mapping.yaml): which Jira fields hold plan step 8's data, and the transitions
 * to make on the ticket. Turning a delivery into a bank's config and validating it with the same
 * validator as the stack config, each problem naming the Jira field and the config key.
 */
import * as fs from "node:fs";
import * as YAML from "yaml";
import { CONFIG_KEYS, RawConfig, SECRET_KEYS, SECRET_PRESENT, StackSettings } from "../../../domain/config";
import { validateStackConfig } from "../../../infra/validation";
import type { ProjectFile } from "../engine/stack-config";
import { HeldChange, heldChanges } from "./change-control";
import type { Delivery } from "./payload";

/** Config keys a Jira field may fill: the bank's own string settings. */
export const MAPPABLE_KEYS = ["alias", "displayName", "assetCode", "firstEmployeeEmail", "keyKeeperUrl", "activeSigningKey"] as const;
export type MappableKey = (typeof MAPPABLE_KEYS)[number];
/** Keys every mapping must fill: the step 8 data without which no stack can exist. */
export const REQUIRED_KEYS: readonly MappableKey[] = ["alias", "displayName", "firstEmployeeEmail", "keyKeeperUrl"];

export interface FieldMapping {
    /** Jira field id: `summary`, or `customfield_NNNNN`. */
    field: string;
    /** The field's name as people see it in Jira, for messages. */
    name: string;
    /** An empty field falls back to the config default instead of being an error. */
    optional: boolean;
}

export interface Mapping {
    fields: Partial<Record<MappableKey, FieldMapping>>;
    /** Transition names to make after onboarding, if any. */
    transitions: { success?: string; failure?: string };
    /** Settings every new stack file gets that no Jira field holds (e.g. kratosDevMode, apiServerCidr); never secrets. */
    defaults: Record<string, string | string[]>;
}

/** One problem with a delivery's data: the Jira field, the config key and the rule. */
export interface DataProblem {
    /** Config key, e.g. `alias` (or `signingKeys[0].slot`). */
    key: string;
    /** The Jira field it comes from (`Bank alias (customfield_10201)`), or where else the value came from. */
    source: string;
    message: string;
}

export type PreparedData =
    | {
        ok: true;
        alias: string;
        /** The values from the ticket. */
        bank: Record<string, string>;
        /** Validated settings (secrets still to be set count as present). */
        settings: StackSettings;
        /** Secret keys the stack needs before it can deploy, set by DevOps (`pulumi config set --secret`), never from Jira. */
        pendingSecrets: string[];
        /** Controlled keys the ticket would change in the existing stack file: not in `bank`, the file's values stay (change-control.ts). */
        held: HeldChange[];
    }
    | { ok: false; alias?: string; problems: DataProblem[] };

const FIELD_ID = /^(customfield_[0-9]{1,10}|[a-z][A-Za-z0-9]{0,40})$/;

/** Platform settings with no project default, which every stack file sets (the cluster's own addresses). */
const PER_STACK_PLATFORM_KEYS: readonly string[] = ["apiServerCidr"];

/**
 * Settings DevOps set on a bank's stack, never a Jira field, with the stand-in validation uses until they
 * do: the secrets, the database and mail server addresses that go with them, and the cluster's API server
 * endpoint addresses, which no one may guess (192.0.2.1 is TEST-NET-1).
 * Missing ones make onboarding wait for DevOps (needs-secrets); they are not a problem of the ticket.
 */
const DEVOPS_SETTINGS: Readonly<Record<string, unknown>> = Object.fromEntries([
    ...SECRET_KEYS.map((k) => [k, SECRET_PRESENT]),
    ...["kratosDatabaseCidrs", "kratosSmtpCidrs", "apiServerCidr"].filter((k) => k in CONFIG_KEYS).map((k) => [k, ["192.0.2.1/32"]]),
]);

export function parseMapping(text: string, origin = "mapping file"): Mapping {
    const doc = YAML.parse(text) as unknown;
    const errors: string[] = [];
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    if (!isObject(doc) || !isObject(doc.fields)) throw new Error(`${origin}: must have a 'fields' map (config key -> {field, name})`);
    const fields: Mapping["fields"] = {};
    for (const [key, entry] of Object.entries(doc.fields)) {
        if (!(MAPPABLE_KEYS as readonly string[]).includes(key)) {
            errors.push(`fields.${key}: not a bank setting a Jira field can fill (one of ${MAPPABLE_KEYS.join(", ")})`);
            continue;
        }
        const e = typeof entry === "string" ? { field: entry } : entry;
        if (!isObject(e) || typeof e.field !== "string" || !FIELD_ID.test(e.field)) {
            errors.push(`fields.${key}.field: must be a Jira field id such as customfield_10201 or summary`);
            continue;
        }
        if (e.name !== undefined && typeof e.name !== "string") errors.push(`fields.${key}.name: must be a string`);
        if (e.optional !== undefined && typeof e.optional !== "boolean") errors.push(`fields.${key}.optional: must be true or false`);
        fields[key as MappableKey] = { field: e.field, name: typeof e.name === "string" ? e.name : e.field, optional: e.optional === true };
    }
    for (const key of REQUIRED_KEYS) {
        if (!fields[key]) errors.push(`fields.${key}: is required (${CONFIG_KEYS[key].doc})`);
        else if (fields[key]!.optional) errors.push(`fields.${key}.optional: ${key} cannot be optional`);
    }
    const transitions: Mapping["transitions"] = {};
    if (doc.transitions !== undefined && doc.transitions !== null) {
        if (!isObject(doc.transitions)) errors.push("transitions: must be a map {success?, failure?}");
        else {
            for (const [k, v] of Object.entries(doc.transitions)) {
                if (k !== "success" && k !== "failure") errors.push(`transitions.${k}: unknown (success, failure)`);
                else if (typeof v !== "string" || v.trim() === "") errors.push(`transitions.${k}: must be a transition name`);
                else transitions[k] = v.trim();
            }
        }
    }
    const defaults: Mapping["defaults"] = {};
    if (doc.defaults !== undefined && doc.defaults !== null) {
        if (!isObject(doc.defaults)) errors.push("defaults: must be a map (config key -> value)");
        else {
            for (const [k, v] of Object.entries(doc.defaults)) {
                const known = CONFIG_KEYS[k];
                if (!known || (known.scope !== "bank" && !PER_STACK_PLATFORM_KEYS.includes(k)) || k === "alias") errors.push(`defaults.${k}: not a bank setting (platform settings belong in Pulumi.yaml)`);
                else if (known.secret) errors.push(`defaults.${k}: is a secret; secrets never go through Jira onboarding (pulumi config set --secret)`);
                else if (fields[k as MappableKey] && !fields[k as MappableKey]!.optional) errors.push(`defaults.${k}: is always filled by the Jira field ${fields[k as MappableKey]!.field}`);
                else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) defaults[k] = v as string[];
                else if (typeof v !== "string" && typeof v !== "boolean" && typeof v !== "number") errors.push(`defaults.${k}: must be a plain value or a list of strings`);
                else defaults[k] = String(v);
            }
        }
    }
    if (errors.length > 0) throw new Error(`${origin} is invalid:\n${errors.map((e) => `  - ${e}`).join("\n")}`);
    return { fields, transitions, defaults };
}

export function loadMapping(file: string): Mapping {
    return parseMapping(fs.readFileSync(file, "utf8"), file);
}

/** A `secure:` value of a stack file. */
function isSecure(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/** The Jira field ids and names the mapping reads. */
export function mappedFields(mapping: Mapping): string[] {
    return Object.values(mapping.fields).flatMap((m) => (m ? [m.field, m.name] : []));
}

/** `Bank alias (customfield_10201)`. */
export function describeField(m: FieldMapping): string {
    return m.name === m.field ? m.field : `${m.name} (${m.field})`;
}

/** How deep a field's value (lists, options, rich-text nodes) may nest; Jira's own shapes need fewer than 10. */
export const MAX_FIELD_DEPTH = 32;
const TOO_DEEP = `is nested deeper than ${MAX_FIELD_DEPTH} levels; Jira onboarding reads text, options, users and rich text`;

const USER_WITHOUT_EMAIL = "is a Jira user whose email address Jira does not share (Jira Cloud hides it unless the user's profile makes it public); use a text field for the first employee's email";

/**
 * Whether a field's object is a Jira user. Jira does not always send `accountId` (privacy-restricted users,
 * Automation's smart values, Server/Data Center's `name`/`key` users), so any of the user's own properties
 * counts, or a `self` link to the user resource; select options (`value`) and other objects have none.
 */
function isJiraUser(o: Record<string, unknown>): boolean {
    return ["accountId", "accountType", "displayName", "avatarUrls", "timeZone"].some((k) => k in o)
        || (typeof o.self === "string" && /\/rest\/api\/(\d+|latest)\/user\b/.test(o.self));
}

/**
 * A Jira field's value as a string: text, a number, a select option (`value`), a user (`emailAddress`),
 * or a rich-text (ADF) document's text. Undefined when empty; an error message for other shapes and for
 * values nested deeper than MAX_FIELD_DEPTH (the walk is bounded, whatever the body holds).
 */
export function fieldText(value: unknown, depth = 0): { text?: string; error?: string } {
    if (depth > MAX_FIELD_DEPTH) return { error: TOO_DEEP };
    if (value === undefined || value === null) return {};
    if (typeof value === "string") return value.trim() === "" ? {} : { text: value.trim() };
    if (typeof value === "number" && Number.isFinite(value)) return { text: String(value) };
    if (typeof value === "object" && !Array.isArray(value)) {
        const o = value as Record<string, unknown>;
        if (o.type === "doc" && Array.isArray(o.content)) {
            const text = adfText(o, depth);
            return text === undefined ? { error: TOO_DEEP } : fieldText(text.trim(), depth + 1);
        }
        if (isJiraUser(o) && typeof o.emailAddress !== "string") return { error: USER_WITHOUT_EMAIL };
        for (const k of ["value", "emailAddress", "name"]) if (typeof o[k] === "string") return fieldText(o[k], depth + 1);
    }
    if (Array.isArray(value)) {
        if (value.length === 1) return fieldText(value[0], depth + 1);
        if (value.length === 0) return {};
        return { error: `must hold one value, got a list of ${value.length}` };
    }
    return { error: `has a value Jira onboarding cannot read (${Array.isArray(value) ? "list" : typeof value})` };
}

/** A rich-text node's text; undefined when it nests deeper than MAX_FIELD_DEPTH. */
function adfText(node: Record<string, unknown>, depth: number): string | undefined {
    if (depth > MAX_FIELD_DEPTH) return undefined;
    if (typeof node.text === "string") return node.text;
    const children = Array.isArray(node.content) ? (node.content as Record<string, unknown>[]) : [];
    const texts: string[] = [];
    for (const child of children) {
        const t = typeof child === "object" && child !== null ? adfText(child, depth + 1) : "";
        if (t === undefined) return undefined;
        texts.push(t);
    }
    return texts.join(node.type === "doc" ? "\n" : "");
}

/**
 * The bank's data from a delivery, validated with the stack config's validator over the project defaults
 * (and over `existing`, the bank's current stack file config, for a repeated delivery). When the file
 * `exists`, a controlled key the ticket would change is held: the file's value is validated and kept.
 */
export function prepareData(delivery: Delivery, mapping: Mapping, project: ProjectFile, existing: RawConfig = {}, exists = false): PreparedData {
    const problems: DataProblem[] = [];
    const bank: Record<string, string> = {};
    const sourceOf = new Map<string, string>();
    for (const key of MAPPABLE_KEYS) {
        const m = mapping.fields[key];
        if (!m) continue;
        sourceOf.set(key, `Jira field '${describeField(m)}'`);
        const { text, error } = fieldText(delivery.fields[m.field]);
        if (error) problems.push({ key, source: `Jira field '${describeField(m)}'`, message: error });
        else if (text === undefined) {
            if (!m.optional) problems.push({ key, source: `Jira field '${describeField(m)}'`, message: "is empty or missing; it is required" });
        } else bank[key] = text;
    }
    const alias = bank.alias;
    // Every problem in one round: the present fields are validated even when others are missing or unreadable.
    const fieldProblems = new Set(problems.map((p) => p.key));
    const current = Object.fromEntries(Object.entries(existing).map(([k, v]) => [k, isSecure(v) ? SECRET_PRESENT : v]));
    const raw: Record<string, unknown> = { ...project.defaults, ...mapping.defaults, ...current, ...bank };
    let result = validateStackConfig(raw, alias ?? "");
    // Secrets (and what goes with them) are never in a ticket: missing ones are set by DevOps later, not a problem of the data.
    const missingSecret = (p: { key: string; message: string }) => p.key in DEVOPS_SETTINGS && /^is required/.test(p.message);
    const pendingSecrets = result.ok ? [] : result.problems.filter(missingSecret).map((p) => p.key);
    if (!result.ok && pendingSecrets.length > 0) {
        result = validateStackConfig({ ...raw, ...Object.fromEntries(pendingSecrets.map((k) => [k, DEVOPS_SETTINGS[k]])) }, alias ?? "");
    }
    if (!result.ok || problems.length > 0) {
        const more = result.ok ? [] : result.problems.filter((p) => !missingSecret(p) && !fieldProblems.has(p.key.split(/[.[]/)[0]));
        return {
            ok: false,
            alias,
            problems: [...problems, ...more.map((p) => ({
                key: p.key,
                source: sourceOf.get(p.key.split(/[.[]/)[0]) ?? (p.key in existing ? `the stack file's ${p.key}` : `the project default ${p.key}`),
                message: p.message,
            }))],
        };
    }
    // The ticket's values are valid (a held one too: an invalid new value is the ticket's problem, said as such).
    // A controlled key it would change keeps the file's value: the settings are those the stack will have.
    const held = heldChanges(exists, existing, bank);
    if (held.length === 0) return { ok: true, alias: alias!, bank, settings: result.settings, pendingSecrets, held };
    for (const h of held) delete bank[h.key];
    const kept = validateStackConfig({ ...raw, ...Object.fromEntries(held.map((h) => [h.key, current[h.key]])), ...Object.fromEntries(pendingSecrets.map((k) => [k, DEVOPS_SETTINGS[k]])) }, alias!);
    if (!kept.ok) {
        // The file's own value no longer validates (edited by hand): its problem, named by the file.
        return { ok: false, alias, problems: kept.problems.map((p) => ({ key: p.key, source: `the stack file's ${p.key.split(/[.[]/)[0]}`, message: p.message })) };
    }
    return { ok: true, alias: alias!, bank, settings: kept.settings, pendingSecrets, held };
}

/**
 * The delivery as a job receives it: the ticket, the event facts and only the mapped fields, as the text
 * the mapping read from them (everything else the body held stays in the receiver).
 */
export function mappedDelivery(delivery: Delivery, mapping: Mapping): Delivery {
    const fields: Record<string, string> = {};
    for (const m of Object.values(mapping.fields)) {
        const text = m ? fieldText(delivery.fields[m.field]).text : undefined;
        if (m && text !== undefined) fields[m.field] = text;
    }
    return {
        source: delivery.source,
        issueKey: delivery.issueKey,
        fields,
        ...(delivery.event !== undefined ? { event: delivery.event } : {}),
        ...(delivery.timestamp !== undefined ? { timestamp: delivery.timestamp } : {}),
        ...(delivery.version !== undefined ? { version: delivery.version } : {}),
    };
}

/** One line per problem: `Jira field 'Bank alias (customfield_10201)' -> dcm-integration:alias: must be ...`. */
export function formatDataProblems(problems: readonly DataProblem[], namespace: string): string[] {
    return problems.map((p) => `${p.source} -> ${namespace}:${p.key}: ${p.message}`);
}
