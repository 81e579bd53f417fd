/**
 * The offline render's records as the policy pack sees them: the engine's side of policies/evaluate.ts, so the
 * pack imports nothing from scripts/.
 */
import { unwrapSecrets } from "../../../domain/secret-values";
import type { PolicyResource } from "../../../policies/evaluate";
import type { RecordedResource } from "./offline-runtime";

/**
 * A recorded resource as the engine would present it: custom resources with their inputs and provider outputs
 * (what stack policies see after an update), components and the Stack with their registered outputs.
 */
export function fromRecorded(r: RecordedResource): PolicyResource {
    const marked = (r.custom ? { ...r.inputs, ...r.outputs } : { ...r.outputs }) as Record<string, unknown>;
    return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        props: unwrapSecrets(marked) as Record<string, unknown>,
        protect: r.protect,
        parent: r.parent,
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
        markedProps: marked,
    };
}

