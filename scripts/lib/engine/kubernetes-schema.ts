/**
 * Offline validation of Kubernetes objects against the Kubernetes API's OpenAPI schema, through the
 * `kubernetes-models` packages (ESM-only, hence dynamic imports).
 */
import type { KubernetesObject } from "./manifests";

type ModelClass = new (data: unknown) => { validate(): void };

/** Where the model of an apiVersion's group lives: core and built-in groups in kubernetes-models, CRDs in their own package. */
const MODEL_PACKAGES: Record<string, string> = {
    "cert-manager.io": "@kubernetes-models/cert-manager",
};

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
    const pkg = MODEL_PACKAGES[group] ?? "kubernetes-models";
    try {
        const mod = (await import(`${pkg}/${apiVersion}/${kind}`)) as Record<string, ModelClass>;
        return mod[kind];
    } catch {
        return undefined;
    }
}

/** The schema violations of one object ("Kind/name: path message"); empty when valid. */
export async function schemaProblems(object: KubernetesObject): Promise<string[]> {
    const id = `${object.kind}/${object.metadata?.name ?? "?"}`;
    const Model = await modelFor(object.apiVersion, object.kind);
    if (!Model) return [`${id}: no schema known for ${object.apiVersion} ${object.kind}`];
    try {
        new Model(object).validate();
        return [];
    } catch (e) {
        return [`${id}: ${(e as Error).message}`];
    }
}
