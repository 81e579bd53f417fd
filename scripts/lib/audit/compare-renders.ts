/** One bank's changes between two offline renders (before: a git revision, after: the working tree). */
import type { RecordedResource } from "../engine/offline-runtime";
import { unwrapSecrets } from "../../../domain/secret-values";
import { buildChange, type ChangeInput } from "./change";
import { diffValues, leaves } from "./diff";
import type { Masker } from "./masker";
import type { PolicyFinding, ResourceChange } from "./model";
import { normalizeRandom } from "./normalize-random";

const STACK = "pulumi:pulumi:Stack";
const GENERATOR = /^(random|tls):/;
// Kubernetes fields the API server cannot change in place: the provider replaces the object.
const K8S_REPLACE = /^(metadata\.(name|namespace)|type|spec\.selector|spec\.template|spec\.clusterIP|spec\.volumeName|spec\.storageClassName)\b/;

/** What a resource is, compared: a custom resource's provider outputs (Kubernetes: the object), the Stack's outputs. */
function compared(r: RecordedResource): Record<string, unknown> {
    const props = structuredClone(r.outputs);
    const metadata = props.metadata as Record<string, unknown> | undefined;
    // Set by the API server each time, not by the program.
    if (r.type.startsWith("kubernetes:") && metadata) delete metadata.uid;
    return props;
}

/** The resources a stack counts (as Pulumi's changeSummary does): custom resources but providers, and the root stack. */
export const counted = (r: RecordedResource) => (r.custom && !r.type.startsWith("pulumi:providers:")) || r.type === STACK;

export interface CompareOptions {
    bank: string;
    masker: Masker;
    policy?: (r: RecordedResource, bank: string) => PolicyFinding[];
}

export function compareRenders(before: readonly RecordedResource[], afterRaw: readonly RecordedResource[], options: CompareOptions): ResourceChange[] {
    const after = normalizeRandom(before, afterRaw);
    const { masker, bank } = options;
    for (const r of [...before, ...after]) {
        masker.learn(r.urn, r.type, r.outputs, r.additionalSecretOutputs);
        masker.learn(r.urn, r.type, r.inputs);
    }
    const old = new Map(before.filter(counted).map((r) => [r.urn, r]));
    const now = new Map(after.filter(counted).map((r) => [r.urn, r]));
    const changes: ResourceChange[] = [];
    for (const urn of new Set([...old.keys(), ...now.keys()])) {
        const b = old.get(urn);
        const a = now.get(urn);
        const r = (a ?? b) as RecordedResource;
        const bp = b && compared(b);
        const ap = a && compared(a);
        let input: ChangeInput;
        const base = {
            bank, urn, type: r.type, name: r.name, protect: Boolean(a ? a.protect : b?.protect),
            ...(b ? { protectBefore: b.protect } : {}), ...(a ? { protectAfter: a.protect } : {}),
            old: bp && (unwrapSecrets(bp) as Record<string, unknown>), new: ap && (unwrapSecrets(ap) as Record<string, unknown>),
        };
        if (!b) input = { ...base, op: "create", fields: leaves(ap, "add"), changedPaths: [] };
        else if (!a) input = { ...base, op: "delete", fields: leaves(bp, "delete"), changedPaths: [] };
        else {
            const fields = diffValues(bp, ap);
            const replacePaths = GENERATOR.test(r.type)
                ? diffValues(b.inputs, a.inputs).map((f) => f.path)
                : r.type.startsWith("kubernetes:") ? fields.map((f) => f.path).filter((p) => K8S_REPLACE.test(p)) : [];
            // Only `protect` changed: Pulumi's `same` step with the protection changed, flagged as such.
            const op = fields.length === 0 ? "same" : replacePaths.length ? "replace" : "update";
            input = { ...base, op, fields, replacePaths, changedPaths: fields.map((f) => f.path) };
        }
        input.changedPaths = input.fields.map((f) => f.path);
        const policy = options.policy && a ? (() => options.policy!(a, bank)) : undefined;
        changes.push(buildChange(input, masker, policy));
    }
    return changes;
}
