/**
 * Pulumi's mock runtime for component tests: resources recorded as they register, each type's state made by a
 * function keyed by resource type (default: the inputs), and the helpers every component test needs.
 */
import * as pulumi from "@pulumi/pulumi";

/** One registration the mock runtime saw. */
export interface Registered { type: string; name: string; inputs: Record<string, any> }

/** A resource type's state from its inputs (e.g. a RandomPassword's `result`). */
export type StateOf = (inputs: Record<string, any>, name: string) => Record<string, any>;

/** States the components' providers would compute, by resource type. */
export const DEFAULT_STATES: Readonly<Record<string, StateOf>> = {
    "random:index/randomPassword:RandomPassword": (inputs) => ({ ...inputs, result: "p".repeat(inputs.length ?? 16) }),
};

/**
 * Installs the mock runtime for a project and stack; returns the list it records registrations into.
 * @param states per resource type, the state a registration gets (DEFAULT_STATES, then these)
 */
export async function setMocks(states: Record<string, StateOf> = {}, stack = "demo", project = "dcm-integration"): Promise<Registered[]> {
    const registered: Registered[] = [];
    const byType = { ...DEFAULT_STATES, ...states };
    await pulumi.runtime.setMocks({
        newResource: (a) => {
            registered.push({ type: a.type, name: a.name, inputs: a.inputs });
            return { id: `${a.name}-id`, state: byType[a.type]?.(a.inputs, a.name) ?? a.inputs };
        },
        call: () => ({}),
    }, project, stack);
    return registered;
}

/** An Output's value (the mock runtime resolves every known value). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise<T>((resolve) => o.apply((v) => { resolve(v); return v; }));
}

/** Lets the mock runtime finish the registrations a constructor started. */
export function settle(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 50));
}

/** Asserts that building throws a ResourceError whose message matches. */
export function throwsResourceError(build: () => unknown, message: RegExp): void {
    let thrown: unknown;
    try {
        build();
    } catch (e) {
        thrown = e;
    }
    if (!(thrown instanceof pulumi.ResourceError)) throw new Error(`expected a ResourceError matching ${message}, got ${thrown === undefined ? "none" : String(thrown)}`);
    if (!message.test(thrown.message)) throw new Error(`ResourceError '${thrown.message}' does not match ${message}`);
}
