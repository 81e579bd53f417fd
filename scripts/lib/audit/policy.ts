/**
 * Policy results beside each change: Pulumi leaves policy events out of `preview --json`, so the pack's own
 * validators run here over each new state (policies/evaluate.ts, the same argument objects the analyzer builds).
 */
import { evaluateResource, type PolicyResource } from "../../../policies/evaluate";
import type { PolicyFinding } from "./model";

/** The pack's resource policies over one new state; a validator that throws is reported, not fatal. */
export function checkPolicies(resource: PolicyResource, bank: string): PolicyFinding[] {
    try {
        return evaluateResource(resource, { stack: bank }).map((v) => ({ policy: v.policy, severity: v.severity, message: v.message }));
    } catch (e) {
        return [{ policy: "policy-pack", severity: "error", message: `could not evaluate: ${(e as Error).message}` }];
    }
}

