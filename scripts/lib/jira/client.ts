/**
 * A small Jira Cloud REST v3 client: comments (ADF bodies) and transitions looked up by name.
 * Retries 429 and 5xx, honouring Retry-After. Credentials come from the environment and never appear
 * in an error, a log line or a return value.
 */
import type { AdfDoc } from "./adf";

/** Environment variables the client reads. */
export const JIRA_ENV = { baseUrl: "JIRA_BASE_URL", email: "JIRA_EMAIL", apiToken: "JIRA_API_TOKEN" } as const;

export interface JiraClientOptions {
    /** Site URL, e.g. https://your-site.atlassian.net. */
    baseUrl: string;
    /** Atlassian account email the API token belongs to. */
    email: string;
    /** API token (basic auth password). */
    apiToken: string;
    /** Attempts after the first one for 429 and 5xx answers and network errors; default 4. */
    maxRetries?: number;
    /** Longest wait between attempts, whatever Retry-After asks; default 60 s. */
    maxDelayMs?: number;
    /** First backoff when no Retry-After is given; doubles per attempt; default 500 ms. */
    baseDelayMs?: number;
    /** Per-request timeout; default 30 s. */
    timeoutMs?: number;
    /** Waits between attempts (tests record the delays instead of sleeping). */
    sleep?: (ms: number) => Promise<void>;
}

/** A Jira request that failed for good; the message names the call and Jira's own error text. */
export class JiraError extends Error {
    constructor(message: string, public readonly status: number | undefined) {
        super(message);
        this.name = "JiraError";
    }
}

export interface Transition {
    id: string;
    name: string;
    /** Status the transition leads to. */
    to?: { name?: string };
}

const ISSUE_KEY = /^[A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9}$/;

/** Whether a string is a Jira issue key (PROJECT-123); anything else never reaches a URL. */
export function isIssueKey(key: string): boolean {
    return ISSUE_KEY.test(key);
}

export class JiraClient {
    private readonly base: string;
    private readonly authorization: string;
    private readonly options: Required<Omit<JiraClientOptions, "baseUrl" | "email" | "apiToken">>;

    constructor(options: JiraClientOptions) {
        const url = new URL(options.baseUrl);
        if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`${JIRA_ENV.baseUrl} must be an http(s) URL`);
        this.base = url.origin + url.pathname.replace(/\/+$/, "");
        this.authorization = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString("base64")}`;
        this.options = {
            maxRetries: options.maxRetries ?? 4,
            maxDelayMs: options.maxDelayMs ?? 60_000,
            baseDelayMs: options.baseDelayMs ?? 500,
            timeoutMs: options.timeoutMs ?? 30_000,
            sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
        };
    }

    /**
     * The client from JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN, or undefined with the missing
     * variables' names (never their values).
     */
    static fromEnv(env: NodeJS.ProcessEnv = process.env, extra: Partial<JiraClientOptions> = {}): { client?: JiraClient; missing: string[] } {
        const missing = Object.values(JIRA_ENV).filter((name) => !env[name]);
        if (missing.length > 0) return { missing };
        return {
            client: new JiraClient({ ...extra, baseUrl: env[JIRA_ENV.baseUrl]!, email: env[JIRA_ENV.email]!, apiToken: env[JIRA_ENV.apiToken]! }),
            missing: [],
        };
    }

    /** Adds a comment (ADF body); returns the comment's id. */
    async addComment(issueKey: string, body: AdfDoc): Promise<string> {
        const res = await this.request("POST", `/rest/api/3/issue/${checkedKey(issueKey)}/comment`, { body });
        return String((res as { id?: unknown })?.id ?? "");
    }

    async transitions(issueKey: string): Promise<Transition[]> {
        const res = (await this.request("GET", `/rest/api/3/issue/${checkedKey(issueKey)}/transitions`)) as { transitions?: Transition[] };
        return res?.transitions ?? [];
    }

    /**
     * Moves the issue through the transition called `name` (or leading to the status called `name`),
     * case-insensitive. Fails naming the transitions that are available.
     */
    async transitionByName(issueKey: string, name: string): Promise<Transition> {
        const available = await this.transitions(issueKey);
        const wanted = name.trim().toLowerCase();
        const match = available.find((t) => t.name.toLowerCase() === wanted) ?? available.find((t) => t.to?.name?.toLowerCase() === wanted);
        if (!match) {
            const names = available.map((t) => `'${t.name}'`).join(", ") || "none";
            throw new JiraError(`issue ${issueKey} has no transition named '${name}' (available: ${names})`, undefined);
        }
        await this.request("POST", `/rest/api/3/issue/${checkedKey(issueKey)}/transitions`, { transition: { id: match.id } });
        return match;
    }

    private async request(method: string, pathname: string, body?: unknown): Promise<unknown> {
        const call = `${method} ${pathname}`;
        for (let attempt = 0; ; attempt++) {
            let res: Response;
            try {
                res = await fetch(this.base + pathname, {
                    method,
                    headers: {
                        authorization: this.authorization,
                        accept: "application/json",
                        ...(body === undefined ? {} : { "content-type": "application/json" }),
                    },
                    body: body === undefined ? undefined : JSON.stringify(body),
                    signal: AbortSignal.timeout(this.options.timeoutMs),
                });
            } catch (e) {
                if (attempt < this.options.maxRetries) {
                    await this.options.sleep(this.backoff(attempt));
                    continue;
                }
                throw new JiraError(`Jira ${call} failed: ${(e as Error).message}`, undefined);
            }
            const textBody = await res.text();
            if (res.ok) return textBody ? safeJson(textBody) : undefined;
            const retryable = res.status === 429 || res.status >= 500;
            if (retryable && attempt < this.options.maxRetries) {
                await this.options.sleep(this.delayFor(res.headers.get("retry-after"), attempt));
                continue;
            }
            throw new JiraError(`Jira ${call} answered ${res.status}${jiraMessages(textBody)}${retryable ? ` after ${attempt + 1} attempts` : ""}`, res.status);
        }
    }

    /** Retry-After in seconds or as an HTTP date, else exponential backoff; capped. */
    private delayFor(retryAfter: string | null, attempt: number): number {
        let ms: number | undefined;
        if (retryAfter !== null && retryAfter.trim() !== "") {
            if (/^\d+$/.test(retryAfter.trim())) ms = Number(retryAfter.trim()) * 1000;
            else {
                const at = Date.parse(retryAfter);
                if (!Number.isNaN(at)) ms = Math.max(0, at - Date.now());
            }
        }
        return Math.min(ms ?? this.backoff(attempt), this.options.maxDelayMs);
    }

    private backoff(attempt: number): number {
        return Math.min(this.options.baseDelayMs * 2 ** attempt, this.options.maxDelayMs);
    }
}

function checkedKey(key: string): string {
    if (!isIssueKey(key)) throw new JiraError(`'${key.slice(0, 60)}' is not a Jira issue key (PROJECT-123)`, undefined);
    return key;
}

function safeJson(body: string): unknown {
    try {
        return JSON.parse(body);
    } catch {
        return undefined;
    }
}

/** Jira's `errorMessages` and `errors`, short; never the request. */
function jiraMessages(body: string): string {
    const parsed = safeJson(body) as { errorMessages?: unknown; errors?: unknown } | undefined;
    const parts: string[] = [];
    if (Array.isArray(parsed?.errorMessages)) parts.push(...parsed.errorMessages.map(String));
    if (parsed?.errors && typeof parsed.errors === "object") parts.push(...Object.entries(parsed.errors).map(([k, v]) => `${k}: ${String(v)}`));
    const joined = parts.join("; ").slice(0, 300);
    return joined ? `: ${joined}` : "";
}
