/**
 * `npm run bench`: runs every bench/*.bench.ts in turn; each prints its own ratios, measured in one run.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const USAGE = `Usage: npm run bench [-- NAME ...]

Runs every bench/*.bench.ts in turn, or those whose file name contains a NAME (audit, checks,
critical-path, operator, render, up, webhook); each prints its own figures, measured in one run.
up and operator run the real Pulumi CLI, API server or operator: they need \`npm run real:setup\` first (exit 2 without).

Guide: docs/devops.md#benchmarks`;

const only = process.argv.slice(2);
if (only.includes("--help") || only.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
}
const files = fs.readdirSync(__dirname).filter((f) => f.endsWith(".bench.ts") && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
let failed = 0;
for (const file of files) {
    process.stdout.write(`\n== ${file}\n`);
    const run = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(__dirname, file)], { stdio: "inherit" });
    if (run.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
