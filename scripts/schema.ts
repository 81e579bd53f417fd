/**
 * `npm run schema [-- --out FILE]`: the JSON Schema of the bank's step-8 data (alias, displayName,
 * firstEmployeeEmail, keyKeeperUrl, assetCode), generated from the stack config's validation rules.
 */
import * as fs from "node:fs";
import { CommandIo, parseCommand, processIo, runCli, usageError } from "./lib/cli";
import { bankFieldsSchema, formatSchema, SCHEMA_FILE } from "./lib/bank-fields-schema";
import { readProject } from "./lib/engine/stack-config";
import { PROJECT_ROOT } from "../domain/project";


const USAGE = `Usage: npm run schema [-- --out FILE]

Prints the JSON Schema (draft 2020-12) of the bank's onboarding data (plan step 8: alias, displayName,
firstEmployeeEmail, keyKeeperUrl, assetCode), generated from the rules the stack configuration is
validated with and Pulumi.yaml's platform settings. A Jira form or any client checks a bank's data with it
before the ticket is filed: what it accepts, onboarding accepts. The committed copy is ${SCHEMA_FILE}.
--out FILE  write the schema to FILE (replaced whole, never half-written) instead of stdout

Exit codes: 0 written; 1 Pulumi.yaml unreadable or FILE not writable; 2 bad usage.`;

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
    const args = parseCommand(argv, { out: { type: "string" } }, USAGE, io, false);
    if (typeof args === "number") return args;
    const out = args.values.out;
    if (out === "") return usageError(io, "--out needs a file name.", USAGE);
    const text = formatSchema(bankFieldsSchema(readProject(PROJECT_ROOT)));
    if (out === undefined) {
        io.out(text);
        return 0;
    }
    // Written beside the target and renamed over it, so a reader never sees half a schema.
    const temp = `${out}.${process.pid}.tmp`;
    try {
        fs.writeFileSync(temp, text);
        fs.renameSync(temp, out);
    } catch (e) {
        fs.rmSync(temp, { force: true });
        io.err(`--out ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}: cannot write the schema there\n`);
        return 1;
    }
    io.err(`wrote ${out} (${Buffer.byteLength(text)} bytes)\n`);
    return 0;
}

if (require.main === module) runCli((argv) => main(argv));
