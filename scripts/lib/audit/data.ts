/**
 * The report as data for tooling: `--json` (every change, flag, policy result, failure and the evidence, all masked
 * already) and `--sarif` (SARIF 2.1.0, one result per flag and policy violation, for code-scanning UIs).
 */
import { FLAG_ORDER } from "./flags";
import type { AuditReport, Severity } from "./model";
import { allFlags } from "./report";

/** Version of the JSON layout below: raised when a field changes meaning or goes away. */
export const REPORT_SCHEMA_VERSION = 1;

export function toJson(report: AuditReport): string {
    const flags = allFlags(report);
    const count = (s: Severity) => flags.filter(({ flag }) => flag.severity === s).length;
    return `${JSON.stringify({
        schemaVersion: REPORT_SCHEMA_VERSION,
        ...report,
        summary: {
            failed: report.failures.length > 0,
            flags: { critical: count("critical"), high: count("high"), medium: count("medium"), low: count("low") },
        },
    }, null, 2)}\n`;
}

const LEVEL: Record<Severity, "error" | "warning" | "note"> = { critical: "error", high: "error", medium: "warning", low: "note" };
// GitHub code scanning orders results by this (0.1 to 10).
const SECURITY_SEVERITY: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.0", low: "2.0" };

/** The stack file a bank's change is about, where code-scanning UIs place the result; the project file for a name that is no alias. */
const stackFile = (bank: string) => (/^[a-z0-9][a-z0-9-]{0,62}$/.test(bank) ? `stacks/Pulumi.${bank}.yaml` : "Pulumi.yaml");

export function toSarif(report: AuditReport): string {
    const flags = allFlags(report);
    const policyResults = report.banks.flatMap((b) => b.changes.flatMap((c) => c.policy.map((p) => ({ c, p }))));
    const ruleIds = [
        ...FLAG_ORDER.map((k) => `audit/${k}`),
        ...new Set(policyResults.map(({ p }) => `policy/${p.policy}`)),
        "audit/preview-failed",
        "audit/render-failed",
    ];
    // A result is placed on the line of the first config key of the bank's stack file the diff changes (every changed
    // key as a related location); with no such key (a preview, a program change, a retired bank) on the file with no
    // line, since none is known, and always on the resource's URN as a logical location.
    const keysOf = new Map(report.banks.map((b) => [b.bank, (b.configChanges ?? []).filter((k) => k.line !== undefined)]));
    const location = (bank: string, urn?: string) => {
        const first = keysOf.get(bank)?.[0];
        return {
            physicalLocation: { artifactLocation: { uri: stackFile(bank) }, ...(first ? { region: { startLine: first.line } } : {}) },
            ...(urn ? { logicalLocations: [{ fullyQualifiedName: urn, kind: "resource" }] } : {}),
        };
    };
    const related = (bank: string) => {
        const keys = keysOf.get(bank) ?? [];
        return keys.length ? { relatedLocations: keys.map((k, id) => ({ id, message: { text: `${k.key} ${k.change}` }, physicalLocation: { artifactLocation: { uri: stackFile(bank) }, region: { startLine: k.line } } })) } : {};
    };
    const results = [
        ...report.failures.flatMap((f) => f.errors.map((e) => ({
            ruleId: `audit/${f.source}-failed`, level: "error",
            message: { text: `${f.source === "render" ? "Render" : "Preview"} of ${f.bank} failed (${f.file}): ${e.message}` },
            locations: [location(f.bank, e.urn)], ...related(f.bank),
        }))),
        ...flags.map(({ change: c, flag: f }) => ({
            ruleId: `audit/${f.kind}`, level: LEVEL[f.severity],
            message: { text: `${c.bank}: ${c.object ?? `${c.type} ${c.name}`} (${c.op}): ${f.message}` },
            locations: [location(c.bank, c.urn)], ...related(c.bank),
            properties: { severity: f.severity, "security-severity": SECURITY_SEVERITY[f.severity] },
        })),
        ...policyResults.map(({ c, p }) => ({
            ruleId: `policy/${p.policy}`, level: p.severity === "mandatory" ? "error" : "warning",
            message: { text: `${c.bank}: ${c.object ?? `${c.type} ${c.name}`}: ${p.message}` },
            locations: [location(c.bank, c.urn)], ...related(c.bank),
        })),
    ];
    return `${JSON.stringify({
        $schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [{
            tool: { driver: { name: "dcm-integration audit", informationUri: "https://www.pulumi.com/docs/iac/cli/commands/pulumi_preview/", rules: ruleIds.map((id) => ({ id, shortDescription: { text: id } })) } },
            results,
        }],
    }, null, 2)}\n`;
}
