/** real:setup's own logic, without building anything: the wrapper go.mod, the component index, the command line. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { missingComponents, readComponents, realBinary, realComponentsAvailable } from "../../scripts/lib/real/components";
import * as semver from "semver";
import { GO_WRAPPERS, goBinaries, lockedVersion, PULUMI_CLI_VERSION, stagingReplaces } from "../../scripts/lib/real/recipes";

const ROOT = path.resolve(__dirname, "..", "..");

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
            const tmpl = fs.readFileSync(path.join(GO_WRAPPERS, b.source.wrapper, "go.mod.tmpl"), "utf8");
            assert.match(tmpl, new RegExp(`require[\\s(]+${b.source.module.replace(/\./g, "\\.")} \\{\\{VERSION\\}\\}`), b.name);
            // The main package (or its command tree) is kept in the wrapper's graph by tools.go, so `go mod tidy` resolves its imports.
            assert.match(fs.readFileSync(path.join(GO_WRAPPERS, b.source.wrapper, "tools.go"), "utf8"), new RegExp(`_ "${b.pkg}(/[a-z]+)?"`), b.name);
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
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
        }
    });
});

describe("npm run real:setup", () => {
    const cli = (args: string[]) => spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(ROOT, "scripts/real-setup.ts"), ...args], {
        cwd: ROOT, encoding: "utf8", env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), DCM_REAL_CACHE: path.join(os.tmpdir(), "dcm-real-never-written") },
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
