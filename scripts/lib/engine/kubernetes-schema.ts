/**
 * Offline validation of Kubernetes objects against the Kubernetes API's OpenAPI schema, through the
 * `kubernetes-models` packages (ESM-only, hence dynamic imports), and of the routing objects against their
 * upstream CustomResourceDefinitions (scripts/lib/engine/crds, written by `npm run crds`). The CRDs' CEL rules
 * (x-kubernetes-validations) are the API server's to apply: test/real/apiserver.test.ts installs the same CRDs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { KubernetesObject } from "./manifests";

/** The directory of the vendored CRDs (JSON, one per file). */
export const CRD_DIR = path.join(__dirname, "crds");

interface Crd {
    spec: { group: string; names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema?: object } }[] };
}

/** The vendored CustomResourceDefinitions, as the API server receives them. */
export function vendoredCrds(): Crd[] {
    return fs.readdirSync(CRD_DIR).filter((f) => f.endsWith(".json")).sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(CRD_DIR, f), "utf8")) as Crd);
}

let crdValidators: Map<string, ValidateFunction> | undefined;
/** One validator per `apiVersion kind` of the vendored CRDs (built once). */
function crdValidator(apiVersion: string, kind: string): ValidateFunction | undefined {
    if (!crdValidators) {
        crdValidators = new Map();
        // OpenAPI v3 structural schemas: Kubernetes' own keywords (x-kubernetes-*) and formats (int32, int64) are not JSON Schema's.
        const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
        addFormats(ajv);
        for (const format of ["int32", "int64", "byte", "duration"]) ajv.addFormat(format, true);
        for (const crd of vendoredCrds()) {
            for (const version of crd.spec.versions) {
                const schema = version.schema?.openAPIV3Schema;
                if (schema) crdValidators.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, ajv.compile(schema));
            }
        }
    }
    return crdValidators.get(`${apiVersion} ${kind}`);
}

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
    const crd = crdValidator(object.apiVersion, object.kind);
    if (crd) {
        return crd(object) ? [] : (crd.errors ?? []).map((e) => `${id}: ${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
    }
    const Model = await modelFor(object.apiVersion, object.kind);
    if (!Model) return [`${id}: no schema known for ${object.apiVersion} ${object.kind}`];
    try {
        new Model(object).validate();
        return [];
    } catch (e) {
        return [`${id}: ${(e as Error).message}`];
    }
}
