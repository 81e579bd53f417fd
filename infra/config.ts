/**
 * Reads the stack's configuration once, validates it, and exports one typed object.
 * An invalid configuration stops the program here, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, formatProblems, RawConfig, StackSettings, validateStackConfig } from "./validation";

const STRUCTURED_KEYS = new Set(["signingKeys"]);

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
    for (const key of new Set([...Object.keys(CONFIG_KEYS), ...present])) {
        try {
            raw[key] = STRUCTURED_KEYS.has(key) ? config.getObject(key) : config.get(key);
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
