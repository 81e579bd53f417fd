/**
 * The evidence block of a report: who ran it and when, the project's commit and whether its tree was dirty, the
 * Pulumi CLI and provider versions where known, the SHA-256 of each input file, and each bank's Jira ticket.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recordedTicket } from "../onboarding/stack-file";
import type { Evidence, RenderDiffEvidence } from "./model";
import type { PreviewDocument } from "./preview";

/** Packages whose lockfile versions say which providers a deployment of this checkout would use. */
const PROVIDER_PACKAGES = ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/random", "@pulumi/tls"];
/** `...::pulumi:providers:<name>::default_4_18_0[::id]`: the default provider's name carries its version. */
const DEFAULT_PROVIDER = /::pulumi:providers:([a-z0-9-]+)::default_(\d+)_(\d+)_(\d+)(?:_([0-9A-Za-z_.-]+))?(?:::|$)/;
const JIRA_KEY = /^[A-Z][A-Z0-9_]*-[0-9]+$/;

export interface EvidenceInput {
    /** The project's directory (its git checkout and stack files). */
    projectDir: string;
    /** The banks the report covers. */
    banks: string[];
    /** The preview files read (with --preview). */
    previews?: PreviewDocument[];
    renderDiff?: RenderDiffEvidence;
    /** Environment (JIRA_BASE_URL); default process.env. */
    env?: NodeJS.ProcessEnv;
    /** Date of the report; default now. */
    now?: Date;
    /** The `pulumi version` lookup; default runs the CLI from PATH. */
    pulumiVersion?: () => string;
}

export function collectEvidence(input: EvidenceInput): Evidence {
    const env = input.env ?? process.env;
    const jiraBase = jiraBaseUrl(env.JIRA_BASE_URL);
    return {
        generatedAt: (input.now ?? new Date()).toISOString(),
        generatedBy: whoRan(input.projectDir),
        project: projectState(input.projectDir),
        pulumiCli: (input.pulumiVersion ?? pulumiCliVersion)(),
        providers: providerVersions(input.projectDir, input.previews ?? []),
        inputs: (input.previews ?? []).map((p) => ({ file: p.file, sha256: p.sha256, ...(p.bank ? { bank: p.bank } : {}) })),
        banks: input.banks.map((bank) => {
            const stackFile = path.join("stacks", `Pulumi.${bank}.yaml`);
            const ticket = jiraTicketOf(input.projectDir, bank);
            return { bank, stackFile, ...(ticket ? { jiraTicket: ticket } : {}), ...(ticket && jiraBase ? { jiraUrl: `${jiraBase}/browse/${ticket}` } : {}) };
        }),
        ...(input.renderDiff ? { renderDiff: input.renderDiff } : {}),
    };
}

/**
 * The Jira ticket a bank's stack file records (the onboarding's own reader, so the audit follows wherever it
 * keeps the ticket); undefined when the file or the ticket is missing, or the key is not a Jira key.
 */
export function jiraTicketOf(projectDir: string, bank: string): string | undefined {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(bank)) return undefined;
    let text: string;
    try {
        text = fs.readFileSync(path.join(projectDir, "stacks", `Pulumi.${bank}.yaml`), "utf8");
    } catch {
        return undefined;
    }
    const ticket = recordedTicket(text);
    return ticket && JIRA_KEY.test(ticket) ? ticket : undefined;
}

/** JIRA_BASE_URL as a link base: http(s) only, no credentials, no query or fragment; otherwise no links. */
export function jiraBaseUrl(value: string | undefined): string | undefined {
    if (!value) return undefined;
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return undefined;
    }
    if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) return undefined;
    return url.href.replace(/\/+$/, "");
}

function git(cwd: string, args: string[]): string | undefined {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
    } catch {
        return undefined;
    }
}

function whoRan(projectDir: string): string {
    let user: string;
    try {
        user = os.userInfo().username;
    } catch {
        user = process.env.USER ?? "unknown user";
    }
    const name = git(projectDir, ["config", "user.name"]);
    const email = git(projectDir, ["config", "user.email"]);
    return name || email ? `${user} (git: ${[name, email && `<${email}>`].filter(Boolean).join(" ")})` : user;
}

/** HEAD and whether the working tree differs from it (tracked changes or untracked files). */
export function projectState(projectDir: string): { commit?: string; dirty?: boolean } {
    const commit = git(projectDir, ["rev-parse", "HEAD"]);
    if (!commit) return {};
    const status = git(projectDir, ["status", "--porcelain"]);
    return { commit, dirty: status === undefined ? undefined : status.length > 0 };
}

function pulumiCliVersion(): string {
    try {
        const out = execFileSync("pulumi", ["version"], {
            encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000, env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
        }).trim();
        return /^v?\d+\.\d+\.\d+[\w.+-]*$/.test(out) ? out : "unknown (unexpected `pulumi version` output)";
    } catch {
        return "not known (no `pulumi` on PATH where the report was made)";
    }
}

/** Versions from the previews' provider URNs (what ran), then the lockfile's provider packages (what would run). */
export function providerVersions(projectDir: string, previews: PreviewDocument[]): { name: string; version: string; source: string }[] {
    const out = new Map<string, { name: string; version: string; source: string }>();
    for (const doc of previews) {
        for (const step of doc.steps) {
            const m = step.provider ? DEFAULT_PROVIDER.exec(step.provider) : null;
            if (!m) continue;
            const version = `${m[2]}.${m[3]}.${m[4]}${m[5] ? `-${m[5]}` : ""}`;
            out.set(`${m[1]} ${version}`, { name: m[1], version, source: "preview" });
        }
    }
    try {
        const lock = JSON.parse(fs.readFileSync(path.join(projectDir, "package-lock.json"), "utf8")) as { packages?: Record<string, { version?: string }> };
        for (const pkg of PROVIDER_PACKAGES) {
            const version = lock.packages?.[`node_modules/${pkg}`]?.version;
            if (typeof version === "string" && /^[\w.+-]+$/.test(version)) out.set(`${pkg} ${version}`, { name: pkg, version, source: "package-lock.json" });
        }
    } catch {
        // No lockfile: only what the previews say.
    }
    return [...out.values()];
}
