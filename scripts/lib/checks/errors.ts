/** How a check attempt ends when it does not pass. */

/** The check failed for good: retrying will not help (a wrong answer, a bad certificate). */
export class CheckFailure extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CheckFailure";
    }
}

/** Worth another attempt before the deadline: connection refused, DNS, a 5xx, a timeout. */
export class TransientFailure extends Error {
    /** The network error's code (ECONNREFUSED...), when a network error caused it. */
    constructor(message: string, public readonly code?: string) {
        super(message);
        this.name = "TransientFailure";
    }
}

/**
 * Worth retrying, but the cause is what another check judges: the key keeper cannot verify DCM's tokens
 * while DCM's JWKS is down, which the jwks check reports. At the deadline the check is not run (a skip
 * saying why) rather than failed: failing it too would name the key keeper for DCM's fault.
 */
export class BlockedFailure extends TransientFailure {
    constructor(message: string) {
        super(message);
        this.name = "BlockedFailure";
    }
}

/** The check does not apply (an input it needs is absent). */
export class CheckSkipped extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CheckSkipped";
    }
}

/** Bad input (outputs, scenario, options): names the field and the rule; the CLI exits 2. */
export class InputError extends Error {
    constructor(public readonly field: string, rule: string) {
        super(`${field}: ${rule}`);
        this.name = "InputError";
    }
}

/** Several problems of one input at once (the outputs, the flags): each still names its field and rule. */
export class InputErrors extends InputError {
    constructor(public readonly problems: InputError[]) {
        super(problems[0].field, "");
        this.message = problems.map((p) => p.message).join("\n");
        this.name = "InputErrors";
    }
}

/** The problems an InputError stands for: itself, or each of an InputErrors. */
export const problemsOf = (e: InputError): InputError[] => (e instanceof InputErrors ? e.problems : [e]);

/** Collects InputErrors, so that every problem of the input is reported at once rather than the first alone. */
export class InputProblems {
    readonly all: InputError[] = [];

    /** f's value; undefined once its InputError is recorded (any other error is thrown on). */
    check<T>(f: () => T): T | undefined {
        try {
            return f();
        } catch (e) {
            this.add(e);
            return undefined;
        }
    }

    /** Records an InputError (each problem of an InputErrors); throws anything else on. */
    add(e: unknown): void {
        if (!(e instanceof InputError)) throw e;
        this.all.push(...problemsOf(e));
    }

    /** Throws the one problem, or an InputErrors holding them all; returns when there is none. */
    throwIfAny(): void {
        if (this.all.length === 1) throw this.all[0];
        if (this.all.length) throw new InputErrors(this.all);
    }
}

/** Codes that mean nothing answers at that address (as opposed to an answer that is wrong). */
export const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "CONNECT_TIMEOUT"]);

const TRANSIENT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED", "UND_ERR_SOCKET"]);

/** A network error's code as a short, secret-free sentence; transient ones become TransientFailure. */
export function classifyNetworkError(e: unknown, target: string): Error {
    if (e instanceof CheckFailure || e instanceof TransientFailure || e instanceof CheckSkipped) return e;
    const code = (e as { code?: string }).code ?? "";
    if (TRANSIENT_CODES.has(code)) {
        const what: Record<string, string> = {
            ECONNREFUSED: "connection refused", ENOTFOUND: "host name does not resolve", EAI_AGAIN: "DNS lookup failed",
            ECONNRESET: "connection reset", ETIMEDOUT: "connection timed out",
        };
        return new TransientFailure(`${target}: ${what[code] ?? code}`, code);
    }
    if (code.startsWith("ERR_TLS") || /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|DEPTH_ZERO/.test(code)) {
        return new CheckFailure(`${target}: TLS: ${code}`);
    }
    return new CheckFailure(`${target}: ${code || (e instanceof Error ? e.message : String(e))}`);
}
