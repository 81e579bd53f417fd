/** Ory Kratos v1.3.1's configuration schema (shared reference data, read in place, never copied). */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

export const KRATOS_SCHEMA_FILE = path.resolve(__dirname, "..", "..", "..", "shared", "data", "kratos-v1.3.1-config.schema.json");

/** The validator; `ory://tracing-config` resolved to a permissive object (tracing is not configured). */
export function kratosConfigValidator(): ValidateFunction {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: "ory://tracing-config", type: "object" });
    return ajv.compile(JSON.parse(fs.readFileSync(KRATOS_SCHEMA_FILE, "utf8")));
}
