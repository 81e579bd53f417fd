/**
 * The real Pulumi CLI (built by `npm run real:setup` from github.com/pulumi/pulumi/pkg/v3 at the lockfile's
 * @pulumi/pulumi version) in a sandbox: its own PULUMI_HOME, a local file state backend and a passphrase
 * secrets provider, so nothing reaches the Pulumi Cloud or the internet, and nothing outlives the test.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { realBinary } from "../../../scripts/lib/real/components";
import { run } from "./process";

const ROOT = path.resolve(__dirname, "..", "..", "..");

export interface PulumiSandbox {
    /** The environment every CLI call (and the Automation API, through process.env) runs with. */
    readonly env: NodeJS.ProcessEnv;
    /** Runs `pulumi <args>` in `cwd`; rejects with the CLI's output on a non-zero exit. */
    pulumi(args: string[], cwd: string): Promise<string>;
    /** Restores process.env and removes the sandbox. */
    cleanup(): void;
}

/**
 * A sandbox whose variables are also set on process.env while it lives, because the Automation API
 * (what onboarding's PulumiCliBackend uses) starts the CLI with process.env and finds it on PATH.
 */
export function pulumiSandbox(passphrase: string): PulumiSandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-pulumi-"));
    fs.mkdirSync(path.join(dir, "state"));
    const cli = realBinary("pulumi");
    const vars: NodeJS.ProcessEnv = {
        PATH: [path.dirname(cli), path.join(ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_HOME: path.join(dir, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "false",
    };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    const env = { ...process.env };
    return {
        env,
        pulumi: (args, cwd) => run(cli, args, { cwd, env }),
        cleanup() {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
