/**
 * `npm run policy -- <stack>`: the policy pack without the Pulumi CLI. Renders the stack offline, runs every
 * validator of policies/ over the recorded resources and prints the violations; mandatory ones fail.
 */
import * as fs from "node:fs";
import type { PolicyPackConfig } from "@pulumi/policy";
import { evaluateStack, policyCatalog, PolicyViolation, stackPolicyConfig } from "../policies/evaluate";
import { fromRecorded } from "./lib/engine/policy-resources";
import { formatTable, parseCommand, processIo, runCli, usageError } from "./lib/cli";
import { renderForCommand } from "./lib/engine/offline-run";

const USAGE = `Usage: npm run policy -- <stack> [--policy-pack-config FILE]

Renders a bank's stack offline (as npm run render does) and runs the policy pack in policies/ over
every resource and the stack outputs, with the stack's baseDomain and environment as policy config.
Prints one row per violation: policy, severity, resource, message.
--policy-pack-config FILE  policy config in the Pulumi CLI's format, laid over the stack's:
                           {"<policy>": "advisory" | {"enforcementLevel": ..., "<property>": ...}};
                           "all": "<level>" sets every policy's level, a policy's own entry wins
With the Pulumi CLI the same pack runs as: pulumi preview --policy-pack policies

Exit codes: 0 no mandatory violation; 1 a mandatory violation (or the program failed); 2 bad usage or invalid configuration.`;

export async function main(argv: string[]): Promise<number> {
    const args = parseCommand(argv, { "policy-pack-config": { type: "string" } }, USAGE);
    if (typeof args === "number") return args;
    if (args.positionals.length !== 1) return usageError(processIo, "policy takes exactly one stack name.", USAGE);
    const stack = args.positionals[0];
    let fileConfig: PolicyPackConfig = {};
    const configFile = args.values["policy-pack-config"];
    if (configFile) {
        try {
            fileConfig = readPackConfig(configFile);
        } catch (e) {
            process.stderr.write(`--policy-pack-config ${configFile}: ${(e as Error).message}\n`);
            return 2;
        }
    }
    const started = Date.now();
    const outcome = await renderForCommand(stack);
    if (typeof outcome === "number") return outcome;
    process.stderr.write(`Checking ${outcome.resources.length} resources against the policy pack...\n`);
    const config = mergeConfig(stackPolicyConfig(outcome.project, outcome.stackConfig.config), fileConfig);
    const violations = evaluateStack(outcome.resources.map(fromRecorded), { stack, config });
    const mandatory = violations.filter((v) => v.severity === "mandatory").length;
    if (violations.length) {
        const rows = sortViolations(violations).map((v) => [v.policy, v.severity, resourceOf(v.urn), v.message]);
        process.stdout.write(formatTable(["POLICY", "SEVERITY", "RESOURCE", "MESSAGE"], rows));
        process.stdout.write("\n");
    }
    const active = policyCatalog({ config }).filter((p) => p.severity !== "disabled").length;
    process.stdout.write(`${mandatory} mandatory and ${violations.length - mandatory} advisory violation(s); `
        + `${active} policies over ${outcome.resources.length} resources of stack '${stack}' in ${Date.now() - started} ms\n`);
    return mandatory > 0 ? 1 : 0;
}

/** A policy config file as `pulumi preview --policy-pack-config` reads it: an object keyed by policy name. */
function readPackConfig(file: string): PolicyPackConfig {
    const doc: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new Error("must be a JSON object keyed by policy name");
    const known = new Set(policyCatalog().map((p) => p.name));
    for (const [name, value] of Object.entries(doc)) {
        // "all" is the CLI's entry for every policy's enforcement level.
        if (!known.has(name) && name !== "all") throw new Error(`unknown policy "${name}" (known: all, ${[...known].join(", ")})`);
        const level = typeof value === "string" ? value : (value as { enforcementLevel?: unknown })?.enforcementLevel;
        if (typeof value !== "string" && (typeof value !== "object" || value === null || Array.isArray(value))) throw new Error(`"${name}" must be an enforcement level or an object`);
        if (level !== undefined && !["advisory", "mandatory", "remediate", "disabled"].includes(String(level))) {
            throw new Error(`"${name}": enforcementLevel must be advisory, mandatory, remediate or disabled, got ${JSON.stringify(level)}`);
        }
    }
    return doc as PolicyPackConfig;
}

/** The file's settings over the stack's, per policy. */
function mergeConfig(base: PolicyPackConfig, over: PolicyPackConfig): PolicyPackConfig {
    const out: PolicyPackConfig = { ...base };
    for (const [name, value] of Object.entries(over)) {
        const prev = out[name];
        const asObject = (v: unknown) => (typeof v === "string" ? { enforcementLevel: v } : (v as object));
        out[name] = prev === undefined ? value : { ...asObject(prev), ...asObject(value) } as PolicyPackConfig[string];
    }
    return out;
}

function sortViolations(vs: PolicyViolation[]): PolicyViolation[] {
    const rank = (v: PolicyViolation) => (v.severity === "mandatory" ? 0 : 1);
    return [...vs].sort((a, b) => rank(a) - rank(b) || a.policy.localeCompare(b.policy) || (a.urn ?? "").localeCompare(b.urn ?? ""));
}

/** `type::name` of a URN (the stack and project parts are the same for every row). */
function resourceOf(urn: string | undefined): string {
    if (!urn) return "(stack)";
    const parts = urn.split("::");
    const type = parts[2]?.split("$").pop() ?? "";
    return `${type}::${parts[3] ?? ""}`;
}

if (require.main === module) runCli(main);
