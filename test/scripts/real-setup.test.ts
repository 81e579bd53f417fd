/** real:setup's own logic, without building anything: the wrapper go.mod, the component index, the command line. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { missingComponents, readComponents, realBinary, realComponentsAvailable } from "../../real/components";
import * as semver from "semver";
import {
    GO_WRAPPERS, GoBinary, goBinaries, installedPlugin, isSourceTree, KRATOS_PREVIOUS_VERSION, KRATOS_VERSION, lockedVersion, PULUMI_CLI_VERSION, stagingReplaces,
} from "../../real/recipes";
import { binaryPath, buildGo, newReport, writeIndex } from "../../real/setup";
import { PROJECT_ROOT } from "../../domain/project";
import { pinnedKratosTag } from "../../support/kratos-schema";


describe("real:setup recipes", () => {
    it("pins every staging module k8s.io/kubernetes replaces locally to its published v0.<minor>.<patch>", () => {
        const upstream = [
            "replace (",
            "\tk8s.io/api => ./staging/src/k8s.io/api",
            "\tk8s.io/pod-security-admission => ./staging/src/k8s.io/pod-security-admission",
            "\tgithub.com/other/module => github.com/fork/module v1.2.3",
            ")",
        ].join("\n");
        assert.equal(stagingReplaces(upstream, "v1.34.4"), "\tk8s.io/api => k8s.io/api v0.34.4\n\tk8s.io/pod-security-admission => k8s.io/pod-security-admission v0.34.4");
        assert.throws(() => stagingReplaces("module k8s.io/kubernetes\n", "v1.34.4"), /no staging replaces/);
    });

    it("builds the Pulumi CLI at its pinned release, no newer than the lockfile's SDK, and every wrapper has its template and tools.go", () => {
        const pulumi = goBinaries().find((b) => b.name === "pulumi");
        assert.equal(pulumi?.version, PULUMI_CLI_VERSION);
        // The SDK may be newer than the CLI (it talks to older engines), not older.
        assert.ok(semver.lte(PULUMI_CLI_VERSION, lockedVersion("@pulumi/pulumi")), `${PULUMI_CLI_VERSION} vs SDK ${lockedVersion("@pulumi/pulumi")}`);
        assert.equal(pulumi?.ldflagsX["github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"], pulumi?.version);
        for (const b of goBinaries()) {
            if (isSourceTree(b.source)) continue;
            const tmpl = fs.readFileSync(path.join(GO_WRAPPERS, b.source.wrapper, "go.mod.tmpl"), "utf8");
            assert.match(tmpl, new RegExp(`require[\\s(]+${b.source.module.replace(/\./g, "\\.")} \\{\\{VERSION\\}\\}`), b.name);
            // The main package (or its command tree) is kept in the wrapper's graph by tools.go, so `go mod tidy` resolves its imports.
            assert.match(fs.readFileSync(path.join(GO_WRAPPERS, b.source.wrapper, "tools.go"), "utf8"), new RegExp(`_ "${b.pkg}(/[a-z]+)?"`), b.name);
        }
    });

    it("builds the Kratos release Pulumi.yaml deploys from its upstream tarball, and the previous one only beside it, for the upgrade test", () => {
        assert.equal(KRATOS_VERSION, pinnedKratosTag(), "test:real must run the Kratos the stack deploys");
        const kratos = goBinaries().filter((b) => b.name.startsWith("kratos"));
        assert.deepEqual(kratos.map((b) => [b.name, b.version]), [["kratos", KRATOS_VERSION], ["kratos-previous", KRATOS_PREVIOUS_VERSION]]);
        const [current, previous] = kratos;
        // v26.2.0's calendar tag has no /v26 module suffix: the proxy does not serve it.
        assert.ok(isSourceTree(current.source) && current.source.origin.kind === "upstream" && current.source.origin.entry === `kratos-${KRATOS_VERSION}.tar.gz`);
        assert.ok(!isSourceTree(previous.source) && previous.source.module === "github.com/ory/kratos" && previous.source.version === KRATOS_PREVIOUS_VERSION);
        for (const b of kratos) {
            assert.deepEqual(b.tags, ["sqlite"]);
            assert.equal(b.cgo, true);
            assert.equal(b.ldflagsX["github.com/ory/kratos/driver/config.Version"], b.version);
        }
    });
});

describe("components.json", () => {
    it("gives a recorded binary's path and says to run real:setup for one missing or gone", () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-real-cache-"));
        try {
            const env = { DCM_REAL_CACHE: cache };
            assert.throws(() => realBinary("etcd", env), /etcd not built: run `npm run real:setup`/);
            const bin = path.join(cache, "etcd-1", "etcd");
            fs.mkdirSync(path.dirname(bin));
            fs.writeFileSync(bin, "");
            fs.writeFileSync(path.join(cache, "components.json"), JSON.stringify({
                etcd: { version: "1", path: bin }, kubectl: { version: "1", path: path.join(cache, "gone") }, broken: { version: 1 },
            }));
            assert.equal(realBinary("etcd", env), bin);
            assert.deepEqual(Object.keys(readComponents(env)).sort(), ["etcd", "kubectl"]);
            assert.equal(realComponentsAvailable(["etcd"], env), true);
            assert.equal(realComponentsAvailable(["etcd", "kubectl"], env), false);
            assert.deepEqual(missingComponents(["etcd", "kubectl", "kratos"], env), ["kubectl", "kratos"]);
            fs.writeFileSync(path.join(cache, "components.json"), "{not json");
            assert.deepEqual(readComponents(env), {});
            // A second run's index is merged over the file as it is when written, keeping another run's entries.
            fs.writeFileSync(path.join(cache, "components.json"), JSON.stringify({ etcd: { version: "1", path: bin } }));
            const report = newReport();
            report.index.kubectl = { version: "2", path: bin };
            writeIndex(report, env);
            assert.deepEqual(Object.keys(readComponents(env)).sort(), ["etcd", "kubectl"]);
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
        }
    });
});

describe("npm run real:setup", () => {
    const cli = (args: string[]) => spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "real/main.ts"), ...args], {
        cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, TS_NODE_PROJECT: path.join(PROJECT_ROOT, "tsconfig.json"), DCM_REAL_CACHE: path.join(os.tmpdir(), "dcm-real-never-written") },
    });

    it("prints usage for --help (exit 0) and refuses an unknown component before building anything (exit 2)", () => {
        const help = cli(["--help"]);
        assert.equal(help.status, 0);
        assert.match(help.stdout, /Usage: npm run real:setup/);
        const unknown = cli(["--only", "kube-apiserver,etcdd"]);
        assert.equal(unknown.status, 2);
        assert.match(unknown.stderr, /--only: unknown component etcdd \(known: .*kube-apiserver/);
        assert.equal(fs.existsSync(path.join(os.tmpdir(), "dcm-real-never-written")), false);
    });
});

describe("real:setup builds a source tree the module proxy does not serve", () => {
    // A tiny upstream tree, as the --upstream folder holds them: its go.mod replaces a module with a path outside the
    // tree (dropped by the recipe's edits), `go generate` writes an embedded file from VERSION, ldflags set a var.
    const writeTree = (dir: string) => {
        fs.mkdirSync(path.join(dir, "cmd", "hello"), { recursive: true });
        fs.writeFileSync(path.join(dir, "go.mod"), "module example.com/hello\n\ngo 1.22\n\nreplace example.com/monorepo => ../../..\n");
        fs.writeFileSync(path.join(dir, "cmd", "hello", "gen.go"), [
            "//go:build ignore", "", "package main", "", "import \"os\"", "",
            "func main() { _ = os.WriteFile(\"generated.txt\", []byte(\"schema \"+os.Getenv(\"VERSION\")), 0o600) }", "",
        ].join("\n"));
        fs.writeFileSync(path.join(dir, "cmd", "hello", "main.go"), [
            "//go:generate go run ./gen.go", "", "package main", "", "import (", "\t_ \"embed\"", "\t\"fmt\"", "\t\"os\"", ")", "",
            "//go:embed generated.txt", "var generated string", "", "var Version string", "",
            "func main() { if len(os.Args) > 1 { fmt.Println(Version, generated) } }", "",
        ].join("\n"));
    };
    const recipe = (entry: string, version: string): GoBinary => ({
        name: "hello", version, cgo: false, pkg: "./cmd/hello", versionArgs: ["-version"],
        source: { id: `hello-${version}`, origin: { kind: "upstream", entry }, modEdits: ["-dropreplace=example.com/monorepo"], generate: { pkg: "./cmd/hello", version: version.slice(1) } },
        ldflagsX: { "main.Version": version },
    });
    const lines: string[] = [];
    const io = { line: (t: string) => void lines.push(t) };

    it("from a .tar.gz and from a folder: go.mod edited, generated, built with the version, recorded; cached the second time", async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-real-tree-"));
        try {
            const upstream = path.join(root, "upstream");
            writeTree(path.join(upstream, "hello-v1.2.3"));
            spawnSync("tar", ["-czf", path.join(upstream, "hello-v2.0.0.tar.gz"), "-C", upstream, "hello-v1.2.3"]);
            const cache = path.join(root, "cache");
            for (const [entry, version] of [["hello-v1.2.3", "v1.2.3"], ["hello-v2.0.0.tar.gz", "v2.0.0"]]) {
                const report = newReport();
                await buildGo([recipe(entry, version)], cache, io, report, upstream, {});
                assert.deepEqual(report.failed, []);
                const bin = binaryPath(cache, "hello", version);
                assert.equal(report.index.hello.path, bin);
                assert.equal(spawnSync(bin, ["-version"], { encoding: "utf8" }).stdout.trim(), `${version} schema ${version.slice(1)}`);
                assert.doesNotMatch(fs.readFileSync(path.join(cache, "work", `hello-${version}`, "go.mod"), "utf8"), /monorepo/);
                const again = newReport();
                await buildGo([recipe(entry, version)], cache, io, again, upstream, {});
                assert.deepEqual(again.cached, ["hello"]);
            }
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("says which tree and flag it needs when there is no upstream folder, and takes an installed binary of the version instead of building", async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-real-tree-"));
        try {
            const report = newReport();
            await buildGo([recipe("hello-v1.2.3", "v1.2.3")], root, io, report, undefined, {});
            assert.equal(report.failed.length, 1);
            assert.match(report.failed[0].reason, /no source for hello-v1\.2\.3: .*--upstream DIR, a folder holding hello-v1\.2\.3/);
            const installed = path.join(root, "bin", "hello");
            const withInstall = { ...recipe("hello-v1.2.3", "v1.2.3"), installed: () => installed };
            const second = newReport();
            await buildGo([withInstall], root, io, second, undefined, {});
            assert.deepEqual([second.failed, second.preinstalled, second.index.hello.path], [[], ["hello"], installed]);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("finds a user's plugin in $PULUMI_HOME/plugins by kind, name and exact version", () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-pulumi-home-"));
        try {
            const bin = path.join(home, "plugins", "resource-tls-v5.3.0", "pulumi-resource-tls");
            fs.mkdirSync(path.dirname(bin), { recursive: true });
            fs.writeFileSync(bin, "");
            assert.equal(installedPlugin({ PULUMI_HOME: home }, "resource", "tls", "v5.3.0"), bin);
            assert.equal(installedPlugin({ PULUMI_HOME: home }, "resource", "tls", "v5.6.1"), undefined);
        } finally {
            fs.rmSync(home, { recursive: true, force: true });
        }
    });
});
