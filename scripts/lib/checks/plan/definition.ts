/** What a check is to the runner: an id, its plan step, and an attempt it may repeat. */
import type { HttpClient } from "../http";
import type { StackFacts } from "../outputs";

export interface CheckContext {
    stack: string;
    facts: StackFacts;
    http: HttpClient;
    /** Registers a value to mask in every reason (a secret learnt while checking). */
    addSecret: (value: unknown) => void;
    /** True when the text holds a known secret or a part of one, in any form the redactor knows. */
    reveals: (text: string) => boolean;
}

export interface CheckDefinition {
    id: string;
    /** Plan step(s), e.g. "5" or "1,6,7". */
    step: string;
    title: string;
    /** Longest single attempt, when it must differ from the run's (a polling scenario step). */
    timeoutMs?: number;
    /**
     * URLs of the hosts the check talks to: when one stays unreachable until the deadline, the run says so
     * once and the check is not run.
     */
    needs: (facts: StackFacts) => string[];
    /** One attempt: resolves on pass (with a warning, if any), throws CheckFailure / TransientFailure / CheckSkipped. */
    attempt: (ctx: CheckContext, timeoutMs: number) => Promise<string | void>;
}

/** Checks that must run one after another (a scenario whose steps capture values for later ones). */
export interface CheckChain {
    chain: CheckDefinition[];
}

export type CheckGroup = CheckDefinition | CheckChain;
