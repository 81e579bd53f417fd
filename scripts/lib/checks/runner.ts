/**
 * Runs the checks: all groups concurrently (a chain's steps in order), each attempt under a timeout,
 * transient failures retried with backoff until the deadline; every reason passes the redactor.
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
import { Redactor } from "./redact";
import { withRetry } from "./retry";
import { loadScenario } from "./scenario";
import type { CheckOptions, CheckReport, CheckResult } from "./types";

export const DEFAULT_DEADLINE_MS = 120_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_SCENARIO = path.resolve(__dirname, "..", "..", "..", "scenarios", "integration.yaml");

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
}

async function runOne(def: CheckDefinition, state: RunState): Promise<CheckResult> {
    const started = Date.now();
    state.onProgress?.({ check: def.id, state: "start" });
    const base = { id: def.id, step: def.step, title: def.title };
    let result: CheckResult;
    try {
        await withRetry((timeoutMs) => def.attempt(state.ctx, timeoutMs), {
            deadline: state.deadline,
            timeoutMs: def.timeoutMs ?? state.timeoutMs,
            onRetry: (reason) => state.onProgress?.({ check: def.id, state: "retry", reason: state.redactor.redact(reason) }),
        });
        result = { ...base, status: "pass", ms: Date.now() - started };
    } catch (e) {
        const skipped = e instanceof CheckSkipped;
        const known = e instanceof CheckFailure || e instanceof TransientFailure || skipped || e instanceof InputError;
        const reason = known ? (e as Error).message : `unexpected error: ${e instanceof Error ? e.message : String(e)}`;
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
    const facts = stackFacts(options.outputs);
    const redactor = new Redactor();
    for (const u of facts.users) redactor.add(u.secret);
    redactor.add(facts.privateKeyPem);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const groups = selectChecks(checkGroups(options.scenarioFile ?? DEFAULT_SCENARIO, timeoutMs), options.only, options.skip);
    // A key keeper name resolving to DCM's own network is refused (unless pinned); else pinned to the checked address.
    const keyKeeperPins = await guardKeyKeeperAddress(facts.keyKeeperUrl, options.resolve ?? [], { allowPrivate: options.allowPrivateKeyKeeper });
    // The stack's own CA (self-signed mode) is trusted like --ca.
    const http = new HttpClient([...(options.resolve ?? []), ...keyKeeperPins], [...(options.caPem ?? []), ...(facts.tlsCaCertificatePem ? [facts.tlsCaCertificatePem] : [])]);
    const state: RunState = {
        ctx: { stack: options.stack, facts, http, addSecret: (v) => redactor.add(v) },
        deadline: started + (options.deadlineMs ?? DEFAULT_DEADLINE_MS),
        timeoutMs,
        redactor,
        onProgress: options.onProgress,
    };
    const results = (await Promise.all(groups.map((g) => runGroup(g, state)))).flat();
    return { stack: options.stack, results, passed: results.every((r) => r.status !== "fail"), ms: Date.now() - started };
}
