/** The post-deploy checks' public types (the contract other scripts call through index.ts). */

export interface CheckResult {
    id: string;
    /** Plan step(s), e.g. "5", "1,6,7". */
    step: string;
    title: string;
    status: "pass" | "fail" | "skip";
    ms: number;
    /** Why it failed or was skipped; never a secret. */
    reason?: string;
}

export interface CheckReport {
    stack: string;
    results: CheckResult[];
    passed: boolean;
    ms: number;
}

export interface ProgressEvent {
    check: string;
    state: "start" | "retry" | "done";
    result?: CheckResult;
    /** For "retry": why the last attempt failed (never a secret). */
    reason?: string;
}

export interface CheckOptions {
    stack: string;
    /** Plain values as `pulumi stack output --json --show-secrets` prints them. */
    outputs: Record<string, unknown>;
    /** curl-style HOST:PORT:ADDRESS (an optional fourth part :PORT2 connects to another port). */
    resolve?: string[];
    /** Extra trusted CAs (PEM). */
    caPem?: string[];
    /** The key keeper may resolve to a private address (the platform's allowPrivateKeyKeeper); default refused. */
    allowPrivateKeyKeeper?: boolean;
    only?: string[];
    skip?: string[];
    /** Retries of transient failures stop at this deadline; default 120 s. */
    deadlineMs?: number;
    /** Each attempt of a check gives up after this long; default 10 s. */
    timeoutMs?: number;
    /** The integration scenario (plan steps 12-16); default scenarios/integration.yaml. */
    scenarioFile?: string;
    onProgress?: (event: ProgressEvent) => void;
}
