// Runs the Pulumi program the way the Pulumi CLI's nodejs runtime does (@pulumi/pulumi/cmd/run), against
// the emulating engine instead of a real one. Plain JavaScript: it must register ts-node before any
// TypeScript loads. Input: a job file (argv[2]); output: the result file the job names.
"use strict";
const fs = require("fs");
const path = require("path");

const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const writeResult = (result) => fs.writeFileSync(job.resultFile, JSON.stringify(result));
// Phases for the caller's progress line (the IPC channel runOffline opens); no channel, no progress.
const phase = (text) => { if (process.send) process.send({ phase: text }); };

// The CLI hands config to the program in these variables; the SDK reads them when it loads.
process.env.PULUMI_CONFIG = JSON.stringify(job.config);
process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(job.secretKeys);
if (job.secretCanary) process.env.DCM_OFFLINE_SECRET_CANARY = job.secretCanary;
// The CLI starts the runtime in the program directory (Pulumi.yaml `main`).
process.chdir(job.programDir);

// ts-node registration exactly as cmd/run/run.js does it for a CommonJS project: the tsconfig.json of the
// program directory (or PULUMI_NODEJS_TSCONFIG_PATH), its own compilerOptions over the runtime's defaults,
// and type checking unless the tsconfig says noCheck or PULUMI_NODEJS_TRANSPILE_ONLY is set.
const tsutils = require("@pulumi/pulumi/tsutils");
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH || "tsconfig.json";
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : Boolean(compilerOptions.noCheck);
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
require(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly,
    project: tsConfigPath,
    skipProject: !fs.existsSync(tsConfigPath),
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
// Registered above; cmd/run must not register a second compiler.
process.env.PULUMI_NODEJS_TYPESCRIPT = "false";

async function main() {
    phase(transpileOnly ? "loading the program (transpile only)" : "type checking the program (ts-node, as the Pulumi CLI does)");
    const { installOfflineEngine } = require(path.join(__dirname, "offline-runtime.ts"));
    // The program's first registration ends loading (and type checking); then a line every 20 registrations.
    const registered = (count) => {
        if (count === 1) phase("running the program");
        if (count % 20 === 0) phase(`${count} resources registered`);
    };
    const finish = await installOfflineEngine(job.project, job.stack, { preview: Boolean(job.preview), seed: job.seed, registered });
    // cmd/run/index.js is the CLI process's entry: it parses argv and connects to the engine when loaded.
    // run.js needs only its exit-code constant, so it gets that instead of a second, engine-bound startup.
    const cliEntry = require.resolve("@pulumi/pulumi/cmd/run/index.js");
    require.cache[cliEntry] = { id: cliEntry, filename: cliEntry, loaded: true, exports: { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 } };
    const { run } = require("@pulumi/pulumi/cmd/run/run");
    const programErrors = [];
    try {
        // argv as the nodejs language host passes it: "." = the program directory, resolved like the CLI does.
        await run({ _: ["."] }, () => {}, () => {}, (err) => { programErrors.push(err); return true; });
    } catch (err) {
        programErrors.push(err);
    }
    const recorded = await finish();
    phase(`program done: ${recorded.resources.length} resources registered`);
    if (programErrors.length > 0) {
        const messages = [...new Set(programErrors.map((e) => (e && e.message) || String(e)))];
        writeResult({ ok: false, error: messages.join("\n"), resources: recorded.resources.length });
    } else {
        writeResult({ ok: true, ...recorded });
    }
}

main().then(
    () => process.exit(0),
    (err) => {
        writeResult({ ok: false, error: `offline engine failed: ${(err && err.stack) || err}` });
        process.exit(0);
    },
);
