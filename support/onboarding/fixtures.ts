/** A temporary copy of the project (its Pulumi.yaml and stack files; the program stays in the repo) and Jira deliveries. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { loadMapping } from "../../scripts/lib/onboarding/mapping";
import { readProject, ProjectFile } from "../../scripts/lib/engine/stack-config";
import { PROJECT_ROOT } from "../../domain/project";

export const MAPPING = loadMapping(path.join(PROJECT_ROOT, "jira-mapping.yaml"));

export interface TempProject {
    dir: string;
    project: ProjectFile;
    /** Every file under stacks/ with its content, to prove nothing was written. */
    snapshot(): Record<string, string>;
    cleanup(): void;
}

/**
 * A workspace image pinned by a digest other than Pulumi.yaml's placeholder, for tests that apply operator Stacks
 * where no pod ever runs (no kubelet, so nothing is pulled): `--apply` refuses the placeholder.
 */
export const TEST_WORKSPACE_IMAGE = `pulumi/pulumi-nodejs:3.259.0-nonroot@sha256:${"5".repeat(64)}`;

/** A copy of the project in a temporary directory: the named stack files, and `platform` as Pulumi.yaml defaults. */
export function tempProject(stacks: string[] = ["demo", "dnipro"], platform: Record<string, string> = {}): TempProject {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-onboard-test-"));
    const doc = YAML.parseDocument(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8"));
    doc.set("main", `${path.relative(dir, path.join(PROJECT_ROOT, "infra"))}/`);
    // Platform settings as DevOps set them in Pulumi.yaml (its defaults).
    for (const [key, value] of Object.entries(platform)) doc.setIn(["config", key, "default"], value);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), doc.toString());
    fs.mkdirSync(path.join(dir, "stacks"));
    for (const s of stacks) fs.copyFileSync(path.join(PROJECT_ROOT, "stacks", `Pulumi.${s}.yaml`), path.join(dir, "stacks", `Pulumi.${s}.yaml`));
    const project = readProject(dir);
    return {
        dir,
        project,
        snapshot: () => Object.fromEntries(fs.readdirSync(path.join(dir, "stacks")).sort().map((f) => [f, fs.readFileSync(path.join(dir, "stacks", f), "utf8")])),
        cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

export interface BankFields {
    alias?: unknown;
    displayName?: unknown;
    firstEmployeeEmail?: unknown;
    keyKeeperUrl?: unknown;
    assetCode?: unknown;
}

let lastUpdated = 0;

/**
 * A Jira Automation "Send web request" body (Issue data, Automation format) for a bank, as edited now:
 * `fields.updated` is a later millisecond than any body made before (or `updated`, to replay one).
 */
export function automationBody(key: string, bank: BankFields = {}, updated?: number): Record<string, unknown> {
    const values: BankFields = {
        alias: "lviv",
        displayName: "Lviv Cooperative Bank",
        firstEmployeeEmail: "officer@lvivbank.example",
        keyKeeperUrl: "https://auth.lvivbank.example/keeper",
        ...bank,
    };
    lastUpdated = updated ?? Math.max(Date.now(), lastUpdated + 1);
    const fields: Record<string, unknown> = { summary: `Roll out ${String(values.displayName)}`, issuetype: { name: "Task" }, updated: new Date(lastUpdated).toISOString() };
    for (const [k, v] of Object.entries(values)) {
        const m = MAPPING.fields[k as keyof typeof MAPPING.fields];
        if (m && v !== undefined) fields[m.field] = v;
    }
    return { self: `https://example.atlassian.net/rest/api/2/issue/1${key.replace(/\D/g, "")}`, id: 10001, key, fields };
}

let lastTimestamp = 0;

/** The same issue as a Jira webhook delivers it, sent now (each body a later millisecond than the one before). */
export function webhookBody(key: string, bank: BankFields = {}, timestamp?: number): Record<string, unknown> {
    const issue = automationBody(key, bank);
    lastTimestamp = timestamp ?? Math.max(Date.now(), lastTimestamp + 1);
    return { timestamp: lastTimestamp, webhookEvent: "jira:issue_created", issue_event_type_name: "issue_created", issue };
}
