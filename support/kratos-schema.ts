/**
 * The configuration schema of the Kratos release the stack pins (the `kratosImage` tag in Pulumi.yaml), from
 * test/fixtures/kratos/<tag>/: inside the repository, so `npm test` needs nothing beside it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as YAML from "yaml";
import { parseImageReference } from "../domain/images";
import { PROJECT_ROOT } from "../domain/project";

export const KRATOS_SCHEMAS_DIR = path.join(PROJECT_ROOT, "test", "fixtures", "kratos");

/** The tag of Pulumi.yaml's default kratosImage, e.g. "v1.3.1". */
export function pinnedKratosTag(pulumiYaml = path.join(PROJECT_ROOT, "Pulumi.yaml")): string {
    const project = YAML.parse(fs.readFileSync(pulumiYaml, "utf8")) as { config?: Record<string, { default?: unknown }> };
    const image = project.config?.["kratosImage"]?.default;
    const tag = typeof image === "string" ? parseImageReference(image).tag : undefined;
    if (!tag) throw new Error(`Pulumi.yaml: config.kratosImage.default has no tag (${JSON.stringify(image)})`);
    return tag;
}

/** The schema file for a Kratos tag; a clear error naming the folder to add when the release has none. */
export function kratosSchemaFile(tag = pinnedKratosTag(), dir = KRATOS_SCHEMAS_DIR): string {
    const file = path.join(dir, tag, "config.schema.json");
    if (!fs.existsSync(file)) {
        throw new Error(`no Kratos config schema for ${tag}: add ${path.relative(PROJECT_ROOT, file)} (embedx/config.schema.json of that release; see ${path.relative(PROJECT_ROOT, path.join(dir, "README.md"))})`);
    }
    return file;
}

/** The validator; `ory://tracing-config` resolved to a permissive object (tracing is not configured). */
export function kratosConfigValidator(): ValidateFunction {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: "ory://tracing-config", type: "object" });
    return ajv.compile(JSON.parse(fs.readFileSync(kratosSchemaFile(), "utf8")));
}
