/**
 * The real Pulumi CLI (built or found by `npm run real:setup`, with its Node.js language host) in a sandbox:
 * its own PULUMI_HOME and plugin cache, a local file state backend and a passphrase secrets provider, so nothing reaches the Pulumi Cloud or the internet, and nothing outlives the test.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { realBinary, realComponentsAvailable } from "../../real/components";
import { PROVIDER_VERSIONS } from "../../real/recipes";
import { run } from "./process";
import { PROJECT_ROOT } from "../../domain/project";


export interface PulumiSandbox {
    /** The environment every CLI call (and the Automation API, through process.env) runs with. */
    readonly env: NodeJS.ProcessEnv;
    /** The sandbox's `pulumi`, beside its language host. */
    readonly cli: string;
    /** Runs `pulumi <args>` in `cwd` (with extra variables); rejects with the CLI's output on a non-zero exit. */
    pulumi(args: string[], cwd: string, extraEnv?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<string>;
    /**
     * `pulumi config set --secret <key>` with the value on stdin: it is on no command line, so neither `ps`
     * nor the error message of a failed call shows it.
     */
    setSecret(key: string, value: string, cwd: string, stack: string): Promise<void>;
    /** Installs the resource plugins real:setup built into the sandbox's plugin cache, at the SDKs' versions. */
    installPlugins(): Promise<void>;
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
    const cli = installation(path.join(dir, "bin"));
    const vars: NodeJS.ProcessEnv = {
        PATH: [path.dirname(cli), path.join(PROJECT_ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_HOME: path.join(dir, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        // Resource plugins come from this sandbox's plugin cache at the SDKs' exact versions, never from a
        // pulumi-resource-* binary of another version that happens to be on PATH.
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "false",
    };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    const env = { ...process.env };
    return {
        env,
        cli,
        pulumi: (args, cwd, extraEnv = {}, timeoutMs) => run(cli, args, { cwd, env: { ...env, ...extraEnv } }, timeoutMs),
        async setSecret(key, value, cwd, stack) {
            await run(cli, ["config", "set", "--secret", key, "-s", stack, "--non-interactive"], { cwd, env }, undefined, value);
        },
        async installPlugins() {
            for (const [name, version] of Object.entries(PROVIDER_VERSIONS)) {
                await run(cli, ["plugin", "install", "resource", name, version.replace(/^v/, ""), "--file", realBinary(`pulumi-resource-${name}`)], { cwd: dir, env });
            }
        },
        cleanup() {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * The CLI and its Node.js language host side by side in one directory, as an official installation has them
 * (~/.pulumi/bin): the CLI takes a bundled host only from beside itself, refuses to install one as a plugin,
 * and with PULUMI_IGNORE_AMBIENT_PLUGINS does not look on PATH. Hard links (a copy across file systems).
 */
function installation(bin: string): string {
    fs.mkdirSync(bin, { recursive: true });
    const names = realComponentsAvailable(["pulumi-language-nodejs"]) ? ["pulumi", "pulumi-language-nodejs"] : ["pulumi"];
    for (const name of names) {
        const target = path.join(bin, name);
        try {
            fs.linkSync(realBinary(name), target);
        } catch {
            fs.copyFileSync(realBinary(name), target);
            fs.chmodSync(target, 0o755);
        }
    }
    return path.join(bin, "pulumi");
}
