/**
 * Runs the checks: all groups concurrently (a chain's steps in order), each attempt under a timeout,
 * transient failures retried with backoff until the deadline; every reason passes the redactor. A check
 * first waits until each host it needs accepts a connection: a host that never does is reported once, and
 * its checks are not run (rather than each failing with the same reason).
 */
import * as path from "node:path";
import { guardKeyKeeperAddress } from "./address-guard";
import { CheckFailure, CheckSkipped, InputError, TransientFailure } from "./errors";
import { HttpClient } from "./http";
import { stackFacts } from "./outputs";
import { backofficeChecks } from "./plan/backoffice";
import type { CheckContext, CheckDefinition, CheckGroup } from "./plan/definition";
import { hostChecks } from "./plan/hosts";
import { jwksChecks } from "./plan/jwks";
import { keyKeeperChecks } from "./plan/key-keeper";
import { scenarioChain } from "./plan/scenario-steps";
import { Redactor } from "../../../domain/redact";
import { withRetry } from "./retry";
import { loadScenario } from "./scenario";
import { NOT_RUN } from "./types";
import type { CheckOptions, CheckReport, CheckResult, UnreachableHost } from "./types";
import { PROJECT_ROOT } from "../../../domain/project";

export const DEFAULT_DEADLINE_MS = 120_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_SCENARIO = path.join(PROJECT_ROOT, "scenarios", "integration.yaml");

/** Every check group in report order. */
export function checkGroups(scenarioFile: string, timeoutMs = DEFAULT_TIMEOUT_MS): CheckGroup[] {
    return [...hostChecks(), ...backofficeChecks(), ...jwksChecks(), ...keyKeeperChecks(), scenarioChain(loadScenario(scenarioFile), timeoutMs)];
}

const members = (g: CheckGroup): CheckDefinition[] => ("chain" in g ? g.chain : [g]);

/** `id` or a `prefix*` pattern. */
function matches(pattern: string, id: string): boolean {
    return pattern.endsWith("*") ? id.startsWith(pattern.slice(0, -1)) : pattern === id;
}

/** Applies --only and --skip; a pattern that names no check is an InputError. */
export function selectChecks(groups: CheckGroup[], only: string[] = [], skip: string[] = []): CheckGroup[] {
    const ids = groups.flatMap(members).map((c) => c.id);
    for (const [flag, patterns] of [["--only", only], ["--skip", skip]] as const) {
        for (const p of patterns) {
            if (!ids.some((id) => matches(p, id))) throw new InputError(flag, `'${p}' names no check (ids: ${ids.join(", ")})`);
        }
    }
    const keep = (c: CheckDefinition) => (only.length === 0 || only.some((p) => matches(p, c.id))) && !skip.some((p) => matches(p, c.id));
    return groups.flatMap((g): CheckGroup[] => {
        if (!("chain" in g)) return keep(g) ? [g] : [];
        const chain = g.chain.filter(keep);
        return chain.length ? [{ chain }] : [];
    });
}

interface RunState {
    ctx: CheckContext;
    deadline: number;
    timeoutMs: number;
    redactor: Redactor;
    onProgress?: CheckOptions["onProgress"];
    /** host:port -> why it is unreachable (undefined: it accepted a connection), one probe per host. */
    reachability: Map<string, Promise<string | undefined>>;
    unreachable: Map<string, UnreachableHost & { steps: Set<string>; ms: number }>;
}

/** host:port of a URL, as --resolve names it. */
function hostPort(urlText: string): string {
    const url = new URL(urlText);
    return `${url.hostname.replace(/^\[|\]$/g, "")}:${url.port || (url.protocol === "https:" ? 443 : 80)}`;
}

/** Whether the host of url accepts a connection before the deadline; the reason it does not, or undefined. */
function reach(url: string, state: RunState): Promise<string | undefined> {
    const key = hostPort(url);
    let verdict = state.reachability.get(key);
    if (!verdict) {
        const started = Date.now();
        verdict = withRetry((timeoutMs) => state.ctx.http.reach(url, timeoutMs), {
            deadline: state.deadline,
            timeoutMs: state.timeoutMs,
            onRetry: (reason) => state.onProgress?.({ check: `reach ${key}`, state: "retry", reason: state.redactor.redact(reason) }),
        }).then(
            () => undefined,
            // Only silence at the network level makes a host unreachable; anything else is for its checks to judge.
            (e: unknown) => {
                if (!(e instanceof TransientFailure)) return undefined;
                const reason = state.redactor.redact(e.message);
                state.unreachable.set(key, { host: key, reason, checks: [], steps: new Set(), ms: Date.now() - started });
                return reason;
            },
        );
        state.reachability.set(key, verdict);
    }
    return verdict;
}

/** An unexpected error's message without the values it may quote (a JSON parse error quotes its input). */
function unexpected(e: unknown): string {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return `unexpected error: ${message.split("\n")[0].replace(/"[^"]*"|'[^']*'|`[^`]*`/g, "\"...\"")}`;
}

async function runOne(def: CheckDefinition, state: RunState): Promise<CheckResult> {
    const started = Date.now();
    state.onProgress?.({ check: def.id, state: "start" });
    const base = { id: def.id, step: def.step, title: def.title };
    let result: CheckResult;
    const needs = def.needs(state.ctx.facts);
    const down = (await Promise.all(needs.map((url) => reach(url, state)))).findIndex((why) => why !== undefined);
    if (down >= 0) {
        const host = hostPort(needs[down]);
        const entry = state.unreachable.get(host)!;
        entry.checks.push(def.id);
        entry.steps.add(def.step);
        result = { ...base, status: "skip", ms: Date.now() - started, reason: `${NOT_RUN}${host} is unreachable` };
        state.onProgress?.({ check: def.id, state: "done", result });
        return result;
    }
    try {
        const warning = await withRetry((timeoutMs) => def.attempt(state.ctx, timeoutMs), {
            deadline: state.deadline,
            timeoutMs: def.timeoutMs ?? state.timeoutMs,
            onRetry: (reason) => state.onProgress?.({ check: def.id, state: "retry", reason: state.redactor.redact(reason) }),
        });
        result = { ...base, status: "pass", ms: Date.now() - started, ...(warning ? { warning: state.redactor.redact(warning) } : {}) };
    } catch (e) {
        const skipped = e instanceof CheckSkipped;
        const known = e instanceof CheckFailure || e instanceof TransientFailure || skipped || e instanceof InputError;
        const reason = known ? (e as Error).message : unexpected(e);
        result = { ...base, status: skipped ? "skip" : "fail", ms: Date.now() - started, reason: state.redactor.redact(reason) };
    }
    state.onProgress?.({ check: def.id, state: "done", result });
    return result;
}

async function runGroup(group: CheckGroup, state: RunState): Promise<CheckResult[]> {
    if (!("chain" in group)) return [await runOne(group, state)];
    const results: CheckResult[] = [];
    let failed: string | undefined;
    for (const def of group.chain) {
        if (failed) {
            const result: CheckResult = { id: def.id, step: def.step, title: def.title, status: "skip", ms: 0, reason: `an earlier step (${failed}) failed` };
            state.onProgress?.({ check: def.id, state: "done", result });
            results.push(result);
            continue;
        }
        const result = await runOne(def, state);
        if (result.status === "fail") failed = def.id;
        results.push(result);
    }
    return results;
}

/** Runs the selected checks; bad outputs, options or scenario throw InputError before anything runs. */
export async function runChecks(options: CheckOptions): Promise<CheckReport> {
    const started = Date.now();
    const redactor = options.redactor ?? new Redactor();
    addOutputSecrets(redactor, options.outputs);
    const facts = stackFacts(options.outputs, options.stack);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const groups = selectChecks(checkGroups(options.scenarioFile ?? DEFAULT_SCENARIO, timeoutMs), options.only, options.skip);
    // A key keeper name resolving to DCM's own network is refused (unless pinned); else pinned to the checked address.
    const keyKeeperPins = await guardKeyKeeperAddress(facts.keyKeeperUrl, options.resolve ?? [], { allowPrivate: options.allowPrivateKeyKeeper });
    // The stack's own CA (self-signed mode) is trusted like --ca.
    const http = checksHttpClient(redactor, [...(options.resolve ?? []), ...keyKeeperPins], [...(options.caPem ?? []), ...(facts.tlsCaCertificatePem ? [facts.tlsCaCertificatePem] : [])]);
    const state: RunState = {
        ctx: { stack: options.stack, facts, http, addSecret: (v) => redactor.add(v), reveals: (t) => redactor.reveals(t) },
        deadline: started + (options.deadlineMs ?? DEFAULT_DEADLINE_MS),
        timeoutMs,
        redactor,
        onProgress: options.onProgress,
        reachability: new Map(),
        unreachable: new Map(),
    };
    const results = (await Promise.all(groups.map((g) => runGroup(g, state)))).flat();
    const unreachable = [...state.unreachable.values()].map(({ host, reason, checks }) => ({ host, reason, checks }));
    // Said once, first: the host, why, and how many checks it kept from running.
    const hostRows: CheckResult[] = [...state.unreachable.values()].map((u) => ({
        id: `reach-${u.host}`, step: [...new Set([...u.steps].flatMap((x) => x.split(",")))].sort((a, b) => Number(a) - Number(b)).join(","), title: `${u.host} accepts connections`, status: "fail", ms: u.ms,
        reason: `${u.reason}; ${u.checks.length} check${u.checks.length === 1 ? "" : "s"} not run`,
    }));
    const all = [...hostRows, ...results];
    return {
        stack: options.stack, results: all, ...(unreachable.length ? { unreachable } : {}),
        passed: all.every((r) => r.status !== "fail"), ms: Date.now() - started,
    };
}

/**
 * The checks' HTTP client: every token or credential a check sends (DCM's short-lived bearer tokens the checks
 * mint, a scenario's Basic header) is registered with the run's redactor before it leaves.
 */
export function checksHttpClient(redactor: Redactor, resolve: string[], caPem: string[]): HttpClient {
    const http = new HttpClient(resolve, caPem);
    http.onCredential = (value) => redactor.add(value);
    return http;
}

/** The secret outputs, registered before they are validated: an input error must not print them either. */
export function addOutputSecrets(redactor: Redactor, outputs: unknown): void {
    if (typeof outputs !== "object" || outputs === null) return;
    const o = outputs as Record<string, unknown>;
    const passwords = o.keyKeeperPasswords;
    if (passwords && typeof passwords === "object") for (const v of Object.values(passwords)) redactor.add(v);
    redactor.add(o.signingPrivateKeyPem);
}
