/**
 * Runs test files in this one process (`npm run test:fast`): each file is required once, so the modules they
 * share (the domain, the audit, the pack, the checks) are compiled once instead of once per file, and node:test
 * runs every test they define when the process ends. For in-process tests only: files that fork, render or
 * install Pulumi's mock runtime (a process-wide global) run in their own process (test/slow-tests.txt,
 * test/components/).
 * Usage: node --require ts-node/register/transpile-only support/in-process.ts FILE...
 */
import * as path from "node:path";

for (const file of process.argv.slice(2)) require(path.resolve(file));
