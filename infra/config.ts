/**
 * Reads the stack's configuration once, validates it, and exports one typed object.
 * An invalid configuration stops the program here, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, formatProblems, RawConfig, SECRET_KEYS, SECRET_PRESENT, StackSettings } from "../domain/config";
import { secretValueProblem } from "../domain/rules";
import { validateStackConfig } from "./validation";

const STRUCTURED_KEYS = new Set(["signingKeys"]);
// Lists that may also be written as one plain string (`pulumi config set apiServerCidr 10.0.0.1/32`).
const LIST_KEYS = new Set(["apiServerCidr", "kratosDatabaseCidrs", "kratosSmtpCidrs", "trustedProxyCidrs", "dcmApiPaths"]);

/** Collects this project's config keys (parsing structured values) and validates them together. */
export function loadSettings(): StackSettings {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const config = new pulumi.Config();
    const raw: Record<string, unknown> = {};
    const problems: { key: string; message: string }[] = [];
    // Every key of the project's namespace, so that unknown (misspelt) keys are reported too.
    const present = Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(`${project}:`))
        .map((k) => k.slice(project.length + 1));
    // The CLI names the secret config keys in this variable (the SDK's own runtime/config.js reads it too).
    const secretKeys = new Set<string>(JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]"));
    for (const key of new Set([...Object.keys(CONFIG_KEYS), ...present])) {
        if (SECRET_KEYS.includes(key)) {
            // Only presence reaches validation: the value is read as a secret Output by kratosSecrets().
            const set = present.includes(key);
            if (set && !secretKeys.has(`${project}:${key}`)) {
                problems.push({ key, message: `must be stored as a secret: pulumi config set --secret ${key} <value>` });
            }
            raw[key] = set ? SECRET_PRESENT : undefined;
            continue;
        }
        try {
            const text = config.get(key);
            raw[key] = LIST_KEYS.has(key) && text !== undefined && !text.trimStart().startsWith("[") ? text
                : STRUCTURED_KEYS.has(key) || LIST_KEYS.has(key) ? config.getObject(key) : text;
        } catch (e) {
            problems.push({ key, message: `is not valid JSON/YAML structure: ${(e as Error).message}` });
        }
    }
    const result = validateStackConfig(raw as RawConfig, stack);
    const all = [...problems, ...(result.ok ? [] : result.problems)];
    if (all.length > 0 || !result.ok) {
        throw new pulumi.RunError(formatProblems(all, project, stack));
    }
    return result.settings;
}

/** The Kratos secrets from config, as secret Outputs whose values are checked where they become known. */
export interface KratosSecretConfig {
    /** PostgreSQL DSN. */
    dsn: pulumi.Output<string>;
    /** SMTP connection URI of the courier. */
    smtpUri: pulumi.Output<string>;
    /** PostgreSQL DSN with DDL rights, for the migrations Job only. */
    migrationDsn: pulumi.Output<string>;
}

/** Reads kratosDsn, kratosSmtpUri and kratosMigrationDsn with requireSecret (only when not in dev mode; validation made sure they are set). */
export function kratosSecrets(): KratosSecretConfig {
    const config = new pulumi.Config();
    const checked = (key: string) => config.requireSecret(key).apply((value) => {
        const rule = secretValueProblem(key, value);
        if (rule) throw new pulumi.RunError(`${pulumi.getProject()}:${key} ${rule}`);
        return value;
    });
    return { dsn: checked("kratosDsn"), smtpUri: checked("kratosSmtpUri"), migrationDsn: checked("kratosMigrationDsn") };
}
