/**
 * The "Policies:" section `pulumi preview --policy-pack` prints (CLI v3.259.0), read back into rows:
 *
 *     Policies:
 *         ⚠️ dcm-bank-integration@v0.1.0 (local: /repo/policies)
 *             - [advisory]  containers-real-digests  (kubernetes:apps/v1:Deployment: frontend-deployment)
 *               <the policy's description>
 *               <the violation's message>
 *             - [advisory]  outputs-secrets  (pulumi:pulumi:Stack: dcm-integration-demo)
 *               can't run policy 'outputs-secrets' from policy pack '...' during preview: string value at .jwks can't be known during preview
 */

/** One row under a pack. */
export interface CliPolicyRow {
    /** advisory or mandatory, as the CLI prints it in brackets. */
    level: string;
    policy: string;
    /** `<type>: <name>` of the resource, as printed in parentheses. */
    resource: string;
    /** The violation's own message (the row's last line: after the policy's description, when there is one). */
    message: string;
}

/** One pack as the CLI lists it. */
export interface CliPolicyPack {
    /** `<name>@v<version>`. */
    pack: string;
    /** Where the CLI loaded it from (`local: <dir>`). */
    source: string;
    rows: CliPolicyRow[];
}

/** The packs of the output's "Policies:" section; none when the section is missing. */
export function cliPolicyPacks(output: string): CliPolicyPack[] {
    const lines = output.split("\n");
    const start = lines.findIndex((l) => l.trimEnd() === "Policies:");
    if (start < 0) return [];
    const packs: CliPolicyPack[] = [];
    for (let i = start + 1; i < lines.length && (lines[i].startsWith("    ") || lines[i].trim() === ""); i++) {
        const pack = /^ {4}\S+\s+(\S+@v\S+) \(([^)]*)\)\s*$/.exec(lines[i]);
        if (pack) {
            packs.push({ pack: pack[1], source: pack[2], rows: [] });
            continue;
        }
        const row = /^ {8}- \[(\w+)\]\s+(\S+)\s+\((.*)\)\s*$/.exec(lines[i]);
        if (row && packs.length) {
            // Then the policy's description and the message, one line each; a policy that could not run has the message only.
            const text: string[] = [];
            while (/^ {10}\S/.test(lines[i + 1] ?? "")) text.push(lines[++i].trim());
            packs[packs.length - 1].rows.push({ level: row[1], policy: row[2], resource: row[3], message: text[text.length - 1] ?? "" });
        }
    }
    return packs;
}

/**
 * A row the CLI adds when a policy could not run because a value is unknown until the update (a new stack's
 * generated keys): not a violation, the policy is not evaluated on that resource during the preview.
 */
export const notRunInPreview = (row: CliPolicyRow) => /^can't run policy '[^']+' .* during preview: .* can't be known during preview$/.test(row.message);
