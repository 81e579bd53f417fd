/**
 * What `npm run real:setup` builds or installs, at which version, and how. The versions are the ones the
 * stack deploys (Kratos), DCM's cluster runs (Kubernetes) and the lockfile holds (Pulumi): change them here.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../domain/project";
import { TRAEFIK_VERSION } from "../domain/routing";

/** Wrapper modules (go.mod templates and tools.go) live here, one directory per upstream module. */
export const GO_WRAPPERS = path.join(PROJECT_ROOT, "real", "go");

/** The identity server the stack deploys (kratosImage's tag). */
export const KRATOS_VERSION = "v26.2.0";
/** The release banks ran before v26.2.0: built only for the upgrade-in-place test (test/real/kratos-upgrade.test.ts). */
export const KRATOS_PREVIOUS_VERSION = "v1.3.1";
/** Kratos releases served by the module proxy (built through the wrapper); any other comes from the upstream directory. */
const KRATOS_SERVED = new Set(["v1.3.1"]);
/** The Kubernetes version tested: a current minor, the one DCM's cluster runs. */
export const KUBERNETES_VERSION = "v1.34.4";
/**
 * The Pulumi CLI and its Node.js language host, of one release as a user's installation has them: v3.259.0 is
 * the newest release whose language host source can be had (the module proxy serves no version of the host).
 * The SDK (@pulumi/pulumi in the lockfile) may be newer.
 */
export const PULUMI_CLI_VERSION = "v3.259.0";

/** A version from package-lock.json, e.g. lockedVersion("@pulumi/pulumi") = "3.276.0". */
export function lockedVersion(pkg: string, lockFile = path.join(PROJECT_ROOT, "package-lock.json")): string {
    const lock = JSON.parse(fs.readFileSync(lockFile, "utf8")) as { packages?: Record<string, { version?: string }> };
    const version = lock.packages?.[`node_modules/${pkg}`]?.version;
    if (!version) throw new Error(`${pkg} is not in ${path.relative(PROJECT_ROOT, lockFile)}: run npm install first`);
    return version;
}

/** An upstream Go module built through a wrapper module of the project's own (real/go/<wrapper>). */
export interface GoModule {
    /** Directory under real/go holding go.mod.tmpl and tools.go. */
    wrapper: string;
    /** The upstream module and version the wrapper requires ({{VERSION}} in go.mod.tmpl). */
    module: string;
    version: string;
    /** Extra text for {{REPLACES}}, computed from the downloaded upstream go.mod. */
    replaces?: (upstreamGoMod: string, version: string) => string;
}

/** One binary `go build` makes from a wrapper module. */
export interface GoBinary {
    /** The components.json name. */
    name: string;
    /** The version recorded (and the cache directory's suffix). */
    version: string;
    source: GoModule | SourceTree;
    /** Main package to build (for a source tree, relative to its root, e.g. "./cmd/pulumi-resource-tls"). */
    pkg: string;
    /** Build tags. */
    tags?: string[];
    /** cgo on (Kratos' SQLite driver) or off (static, as upstream releases the others). */
    cgo: boolean;
    /** `-X importpath.name=value` the upstream build sets (the version the binary reports). */
    ldflagsX: Record<string, string>;
    /** Arguments that make the binary print its version: run once after the build, as a smoke test. */
    versionArgs?: string[];
    /** A user's installation of this very version (the official CLI and plugins), used instead of building. */
    installed?: InstalledLocator;
    /** Directories of the source tree copied beside the binary after the build (the operator's CRDs). */
    keep?: { from: string; to: string }[];
}

export const isSourceTree = (s: GoModule | SourceTree): s is SourceTree => "origin" in s;

/**
 * A source tree copied into the cache and built there, for what cannot be built as a dependency of a wrapper
 * module: upstream source the module proxy does not serve (a folder or .tar.gz under the upstream directory),
 * or a served module whose build needs upstream's own steps inside it (`go generate` writing embedded files).
 */
export interface SourceTree {
    /** The work directory's name under the cache's work/. */
    id: string;
    /** Where the tree comes from. */
    origin: { kind: "module"; module: string; version: string } | { kind: "upstream"; entry: string };
    /** `go mod edit` flags applied to the copy's go.mod (replaces into a monorepo dropped, requires set). */
    modEdits?: string[];
    /** `go mod tidy` after the edits, as upstream's own instructions say. */
    tidy?: boolean;
    /** `go generate` of this package with VERSION set: upstream's step that writes the embedded schema. */
    generate?: { pkg: string; version: string };
    /** Files written into the copy before the go.mod edits (path relative to the tree's root: text). */
    files?: Record<string, string>;
}

/** Where a user's installed binary of the right version is, if any: used instead of building it. */
export type InstalledLocator = (env: NodeJS.ProcessEnv) => string | undefined;

/** A Debian package providing a component. */
export interface DebianComponent {
    name: string;
    /** Package to apt-get install when missing. */
    pkg: string;
    /** The component's path once installed (a binary, or for postgres-bin the bin directory). */
    locate: () => string | undefined;
}

const k8sVersionX = (v: string): Record<string, string> => {
    const [major, minor] = v.replace(/^v/, "").split(".");
    const x: Record<string, string> = {};
    // What hack/lib/version.sh sets; kubectl's version skew check and /version read these.
    for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
        Object.assign(x, {
            [`${pkg}.gitVersion`]: v,
            [`${pkg}.gitMajor`]: major,
            [`${pkg}.gitMinor`]: minor,
            [`${pkg}.gitTreeState`]: "clean",
            [`${pkg}.buildDate`]: "1970-01-01T00:00:00Z",
        });
    }
    return x;
};

/**
 * k8s.io/kubernetes replaces each staging module (k8s.io/api, k8s.io/apiserver, ...) with ./staging/src/...;
 * a consumer replaces each with its published v0.<minor>.<patch> instead.
 */
export function stagingReplaces(upstreamGoMod: string, version: string): string {
    const published = version.replace(/^v1\./, "v0.");
    const names = [...upstreamGoMod.matchAll(/^\s*(k8s\.io\/[a-z0-9-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
    if (names.length === 0) throw new Error("k8s.io/kubernetes' go.mod has no staging replaces: its layout changed, update stagingReplaces");
    return names.map((n) => `\t${n} => ${n} ${published}`).join("\n");
}

export function goBinaries(): GoBinary[] {
    const pulumiVersion = PULUMI_CLI_VERSION;
    const kubernetes: GoModule = { wrapper: "kubernetes", module: "k8s.io/kubernetes", version: KUBERNETES_VERSION, replaces: stagingReplaces };
    const pulumi: GoModule = { wrapper: "pulumi", module: "github.com/pulumi/pulumi/pkg/v3", version: pulumiVersion };
    // Longest first: two builds run at once, so the long ones start first.
    return [
        {
            name: "kube-apiserver", version: KUBERNETES_VERSION, source: kubernetes, pkg: "k8s.io/kubernetes/cmd/kube-apiserver",
            cgo: false, ldflagsX: k8sVersionX(KUBERNETES_VERSION), versionArgs: ["--version"],
        },
        {
            name: "pulumi", version: pulumiVersion, source: pulumi, pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
            cgo: false, ldflagsX: { "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version": pulumiVersion }, versionArgs: ["version"],
            installed: (env) => installedCli(env, pulumiVersion),
        },
        kratosBinary("kratos", KRATOS_VERSION),
        kratosBinary("kratos-previous", KRATOS_PREVIOUS_VERSION),
        {
            // Debian 12 has no kubectl package; built from the same module as the API server, so the versions match.
            name: "kubectl", version: KUBERNETES_VERSION, source: kubernetes, pkg: "k8s.io/kubernetes/cmd/kubectl",
            cgo: false, ldflagsX: k8sVersionX(KUBERNETES_VERSION), versionArgs: ["version", "--client"],
        },
        ...pulumiPlugins(),
        operatorBinary(),
        traefikBinary(),
    ];
}

/**
 * Traefik's go.mod replaces github.com/traefik/traefik/dynamic/ext with ./pkg/config/dynamic/ext, a nested module
 * that the module zip leaves out and the proxy does not serve. Its two files, verbatim from upstream
 * (github.com/traefik/traefik at the release tag, pkg/config/dynamic/ext/), are written into the copy.
 */
export const TRAEFIK_EXT_FILES: Record<string, string> = {
    "pkg/config/dynamic/ext/go.mod": "module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24.0\n",
    "pkg/config/dynamic/ext/ext.go": [
        "package ext", "",
        "// HTTP is a dynamic.HTTP extension.", "type HTTP struct{}", "",
        "// Router is a dynamic.Router extension.", "type Router struct{}", "",
        "// RouterIng is a RouterIng extension for ingress provider annotations.", "type RouterIng struct{}", "",
        "// ToRouter converts RouterIng to a Router.", "func (r RouterIng) ToRouter() Router {", "\treturn Router{}", "}", "",
    ].join("\n"),
};

/**
 * Modules v3.7.13 requires at versions the proxy refuses ("This module version is not available"), each pinned to
 * the nearest served one. All but go-http-auth (basic and digest auth middlewares) are ACME DNS-01 providers of
 * lego, none of which the data-plane test uses; go-http-auth is Traefik v3.6.12's own pin of its fork.
 */
export const TRAEFIK_UNSERVED_PINS: Record<string, string> = {
    "github.com/abbot/go-http-auth": "github.com/containous/go-http-auth@v0.4.1-0.20200324110947-a37a7636d23e",
    "github.com/akamai/AkamaiOPEN-edgegrid-golang/v13": "github.com/akamai/AkamaiOPEN-edgegrid-golang/v13@v13.3.0",
    "github.com/nrdcg/oci-go-sdk/common/v1065": "github.com/nrdcg/oci-go-sdk/common/v1065@v1065.120.0",
    "github.com/nrdcg/oci-go-sdk/dns/v1065": "github.com/nrdcg/oci-go-sdk/dns/v1065@v1065.120.0",
    "github.com/huaweicloud/huaweicloud-sdk-go-v3": "github.com/huaweicloud/huaweicloud-sdk-go-v3@v0.1.215",
    "github.com/ucloud/ucloud-sdk-go": "github.com/ucloud/ucloud-sdk-go@v0.22.123",
    "github.com/yandex-cloud/go-sdk/services/dns": "github.com/yandex-cloud/go-sdk/services/dns@v0.0.96",
    "github.com/yandex-cloud/go-sdk/v2": "github.com/yandex-cloud/go-sdk/v2@v2.175.0",
    "github.com/sacloud/sacloud-sdk-go": "github.com/sacloud/sacloud-sdk-go@v0.2.0",
};

/** Traefik from its module zip, built as upstream's Makefile does (static, the version set by -X). */
export function traefikBinary(): GoBinary {
    return {
        name: "traefik", version: TRAEFIK_VERSION, cgo: false, pkg: "./cmd/traefik",
        source: {
            id: `traefik-${TRAEFIK_VERSION}`, origin: { kind: "module", module: "github.com/traefik/traefik/v3", version: TRAEFIK_VERSION },
            files: TRAEFIK_EXT_FILES,
            modEdits: Object.entries(TRAEFIK_UNSERVED_PINS).map(([from, to]) => `-replace=${from}=${to}`),
        },
        ldflagsX: { "github.com/traefik/traefik/v3/pkg/version.Version": TRAEFIK_VERSION }, versionArgs: ["version"],
    };
}

/** The Pulumi Kubernetes Operator release the fleet's Stack objects are written for (issue 27). */
export const OPERATOR_VERSION = "v2.9.0";

/**
 * The operator's manager, from upstream's tarball (module github.com/pulumi/pulumi-kubernetes-operator/v2 is not
 * served by the proxy; every module it imports is). Built as its Dockerfile's op-builder stage does:
 * `go build -ldflags "-X .../operator/version.Version=<v>" ./operator/cmd/main.go`, static. The tarball also
 * carries the CRDs (deploy/crds/) that test:real installs: `operatorCrdDir()` finds them in the work directory.
 */
export function operatorBinary(): GoBinary {
    return {
        name: "pulumi-kubernetes-operator", version: OPERATOR_VERSION, cgo: false, pkg: "./operator/cmd",
        source: { id: `pulumi-kubernetes-operator-${OPERATOR_VERSION}`, origin: { kind: "upstream", entry: `pulumi-kubernetes-operator-${OPERATOR_VERSION}.tar.gz` } },
        ldflagsX: { "github.com/pulumi/pulumi-kubernetes-operator/v2/operator/version.Version": OPERATOR_VERSION },
        keep: [{ from: "deploy/crds", to: "crds" }],
    };
}

/** The operator's CRDs (pulumi.com Stack and Program, auto.pulumi.com Workspace and Update) beside its binary. */
export function operatorCrdDir(binary: string): string {
    return path.join(path.dirname(binary), "crds");
}

/**
 * Kratos at a version, as the component `name`: through the wrapper module where the proxy serves it (v1.3.1);
 * else from upstream's tarball (calendar tags such as v26.2.0 carry no /v26 suffix, so the proxy serves none,
 * and their go.mod replaces ory/x and client-go with nested modules of the tarball).
 */
export function kratosBinary(name: string, version: string): GoBinary {
    const base = { name, version, tags: ["sqlite"], cgo: true, ldflagsX: { "github.com/ory/kratos/driver/config.Version": version }, versionArgs: ["version"] };
    return KRATOS_SERVED.has(version)
        ? { ...base, source: { wrapper: "kratos", module: "github.com/ory/kratos", version }, pkg: "github.com/ory/kratos" }
        : { ...base, source: { id: `kratos-${version}`, origin: { kind: "upstream", entry: `kratos-${version}.tar.gz` } }, pkg: "." };
}

/** The provider plugins the stack's SDKs ask for: the newest releases whose build the module proxy serves whole. */
export const PROVIDER_VERSIONS = { kubernetes: "v4.25.0", random: "v4.19.1", tls: "v5.3.0" } as const;
/** pulumi-kubernetes/provider/v4 has no semver tags (they sit at the repository root): this pseudo-version is tag v4.25.0's commit. */
const KUBERNETES_PROVIDER_MODULE_VERSION = "v4.0.0-20260115033456-f47bc2d6f199";

/** Where a user's installation keeps a plugin: $PULUMI_HOME/plugins/resource-<name>-<version>/. */
export function installedPlugin(env: NodeJS.ProcessEnv, kind: "resource" | "language", name: string, version: string): string | undefined {
    const home = env.PULUMI_HOME ?? path.join(env.HOME ?? "/nonexistent", ".pulumi");
    return firstExisting(path.join(home, "plugins", `${kind}-${name}-${version}`, `pulumi-${kind}-${name}`));
}

/** The `pulumi` on PATH when it reports exactly this version (an official installation), else undefined. */
export function installedCli(env: NodeJS.ProcessEnv, version: string, binary = "pulumi"): string | undefined {
    for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(dir, binary);
        if (!fs.existsSync(candidate)) continue;
        const r = spawnSync(candidate, ["version"], { encoding: "utf8", timeout: 20_000, env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
        return r.status === 0 && r.stdout.trim() === version ? candidate : undefined;
    }
    return undefined;
}

/** A bridged provider from upstream's provider/ folder, built as upstream's Makefile does: generate, then build. */
function bridgedProvider(name: "random" | "tls", major: string): GoBinary {
    const version = PROVIDER_VERSIONS[name];
    const bare = version.slice(1);
    return {
        name: `pulumi-resource-${name}`, version, cgo: false, pkg: `./cmd/pulumi-resource-${name}`,
        source: {
            id: `pulumi-resource-${name}-${version}`, origin: { kind: "upstream", entry: `pulumi-${name}-provider-${version}` },
            generate: { pkg: `./cmd/pulumi-resource-${name}`, version: bare },
        },
        ldflagsX: { [`github.com/pulumi/pulumi-${name}/provider/${major}/pkg/version.Version`]: bare },
        installed: (env) => installedPlugin(env, "resource", name, version),
    };
}

/** The Pulumi CLI's Node.js language host and the stack's three resource plugins. */
export function pulumiPlugins(): GoBinary[] {
    const k8s = PROVIDER_VERSIONS.kubernetes;
    return [
        {
            // Its go.mod replaces pkg/v3 and sdk/v3 with monorepo paths: required at the CLI's release instead.
            name: "pulumi-language-nodejs", version: PULUMI_CLI_VERSION, cgo: false, pkg: ".",
            source: {
                id: `pulumi-language-nodejs-${PULUMI_CLI_VERSION}`, origin: { kind: "upstream", entry: `pulumi-language-nodejs-${PULUMI_CLI_VERSION}` },
                modEdits: [
                    "-dropreplace=github.com/pulumi/pulumi/pkg/v3", "-dropreplace=github.com/pulumi/pulumi/sdk/v3",
                    `-require=github.com/pulumi/pulumi/pkg/v3@${PULUMI_CLI_VERSION}`, `-require=github.com/pulumi/pulumi/sdk/v3@${PULUMI_CLI_VERSION}`,
                ],
                tidy: true,
            },
            ldflagsX: { "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version": PULUMI_CLI_VERSION }, versionArgs: ["-version"],
            // An official installation ships the host beside the CLI of the same release.
            installed: (env) => {
                const cli = installedCli(env, PULUMI_CLI_VERSION);
                return cli ? firstExisting(path.join(path.dirname(cli), "pulumi-language-nodejs")) : undefined;
            },
        },
        {
            // Its go.mod replaces the Kubernetes SDK with ../sdk, outside the module: the required version is served.
            name: "pulumi-resource-kubernetes", version: k8s, cgo: false, pkg: "./cmd/pulumi-resource-kubernetes",
            source: {
                id: `pulumi-resource-kubernetes-${k8s}`,
                origin: { kind: "module", module: "github.com/pulumi/pulumi-kubernetes/provider/v4", version: KUBERNETES_PROVIDER_MODULE_VERSION },
                modEdits: ["-dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4"],
                generate: { pkg: "./cmd/pulumi-resource-kubernetes", version: k8s.slice(1) },
            },
            ldflagsX: { "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version": k8s.slice(1) },
            installed: (env) => installedPlugin(env, "resource", "kubernetes", k8s),
        },
        bridgedProvider("random", "v4"),
        bridgedProvider("tls", "v5"),
    ];
}

const firstExisting = (...candidates: string[]): string | undefined => candidates.find((c) => fs.existsSync(c));

/** The newest /usr/lib/postgresql/<major>/bin holding initdb. */
export function postgresBinDir(root = "/usr/lib/postgresql"): string | undefined {
    let majors: string[];
    try {
        majors = fs.readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    } catch {
        return undefined;
    }
    return majors.map((m) => path.join(root, m, "bin")).find((d) => fs.existsSync(path.join(d, "initdb")));
}

export const DEBIAN_COMPONENTS: DebianComponent[] = [
    { name: "etcd", pkg: "etcd-server", locate: () => firstExisting("/usr/bin/etcd") },
    { name: "postgres-bin", pkg: "postgresql", locate: () => postgresBinDir() },
    { name: "nginx", pkg: "nginx", locate: () => firstExisting("/usr/sbin/nginx") },
];
