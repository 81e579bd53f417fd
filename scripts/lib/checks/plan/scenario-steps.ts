/** Plan steps 12-16: the scenario file's steps as one chain of checks (later steps use earlier captures). */
import { playStep, Scenario, scenarioLiterals } from "../scenario";
import type { CheckChain, CheckContext } from "./definition";

/** Values scenario templates can use, besides vars. */
function templateContext(ctx: CheckContext, scenario: Scenario): Record<string, unknown> {
    const users = Object.fromEntries(ctx.facts.users.map((u) => {
        const basic = Buffer.from(`${u.username}:${u.secret}`).toString("base64");
        ctx.addSecret(basic);
        return [u.entity, { username: u.username, password: u.secret, basic }];
    }));
    return {
        alias: ctx.facts.alias, stack: ctx.stack, apiUrl: ctx.facts.apiUrl, backofficeUrl: ctx.facts.backofficeUrl,
        users, vars: { ...scenario.variables },
    };
}

export function scenarioChain(scenario: Scenario, defaultTimeoutMs: number): CheckChain {
    let context: Record<string, unknown> | undefined;
    const knownValues = scenarioLiterals(scenario);
    return {
        chain: scenario.steps.map((step) => ({
            id: `scenario-${step.id}`,
            step: step.planStep,
            title: step.title,
            timeoutMs: step.poll ? step.poll.forMs + (step.timeoutMs ?? defaultTimeoutMs) : step.timeoutMs,
            needs: (facts) => [facts.apiUrl],
            attempt: async (ctx, timeoutMs) => {
                context ??= templateContext(ctx, scenario);
                await playStep(step, ctx.facts.apiUrl, context, ctx.http, timeoutMs, ctx.addSecret, knownValues);
            },
        })),
    };
}
