/** The post-deploy checks' public types (the contract other scripts call through index.ts). */
import type { Redactor } from "../../../domain/redact";

export interface CheckResult {
    id: string;
    /** Plan step(s), e.g. "5", "1,6,7". */
    step: string;
    title: string;
    status: "pass" | "fail" | "skip";
    ms: number;
    /** Why it failed or was skipped (or not run: a host it needs is unreachable); never a secret. */
    reason?: string;
    /** A passing check's warning (a certificate expiring soon); never a secret. */
    warning?: string;
}

/** A check that was not run because a host it needs is unreachable (a skip, told apart by its reason). */
export const NOT_RUN = "not run: ";
export const isNotRun = (r: CheckResult) => r.status === "skip" && (r.reason ?? "").startsWith(NOT_RUN);

/** A host no connection reached until the deadline; the checks that need it were not run. */
export interface UnreachableHost {
    /** host:port */
    host: string;
    /** Why the last connection failed (refused, DNS, timeout), after retries. */
    reason: string;
    /** The checks that were not run for it. */
    checks: string[];
}

export interface CheckReport {
    stack: string;
    results: CheckResult[];
    /** Hosts that stayed unreachable (each also has a failed `reach-<host:port>` result, first in results). */
    unreachable?: UnreachableHost[];
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
    /** Masks secrets in every reason; pass one to share it with other output channels (the CLI does). */
    redactor?: Redactor;
}
