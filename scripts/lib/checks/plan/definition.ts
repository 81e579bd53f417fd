/** What a check is to the runner: an id, its plan step, and an attempt it may repeat. */
import type { HttpClient } from "../http";
import type { StackFacts } from "../outputs";

export interface CheckContext {
    stack: string;
    facts: StackFacts;
    http: HttpClient;
    /** Registers a value to mask in every reason (a secret learnt while checking). */
    addSecret: (value: unknown) => void;
}

export interface CheckDefinition {
    id: string;
    /** Plan step(s), e.g. "5" or "1,6,7". */
    step: string;
    title: string;
    /** Longest single attempt, when it must differ from the run's (a polling scenario step). */
    timeoutMs?: number;
    /** One attempt: resolves on pass, throws CheckFailure / TransientFailure / CheckSkipped. */
    attempt: (ctx: CheckContext, timeoutMs: number) => Promise<void>;
}

/** Checks that must run one after another (a scenario whose steps capture values for later ones). */
export interface CheckChain {
    chain: CheckDefinition[];
}

export type CheckGroup = CheckDefinition | CheckChain;
