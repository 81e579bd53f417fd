/**
 * What `npm run real:setup` builds or installs, at which version, and how. The versions are the ones the
 * stack deploys (Kratos), DCM's cluster runs (Kubernetes) and the lockfile holds (Pulumi): change them here.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
/** Wrapper modules (go.mod templates and tools.go) live here, one directory per upstream module. */
export const GO_WRAPPERS = path.join(REPO_ROOT, "scripts", "real", "go");

/** The identity server the stack deploys (kratosImage's tag). */
export const KRATOS_VERSION = "v1.3.1";
/** The Kubernetes version tested: a current minor, the one DCM's cluster runs. */
export const KUBERNETES_VERSION = "v1.34.4";
/**
 * The Pulumi CLI and its Node.js language host, of one release as a user's installation has them: v3.259.0 is
 * the newest release whose language host source can be had (the module proxy serves no version of the host).
 * The SDK (@pulumi/pulumi in the lockfile) may be newer.
 */
export const PULUMI_CLI_VERSION = "v3.259.0";

/** A version from package-lock.json, e.g. lockedVersion("@pulumi/pulumi") = "3.276.0". */
export function lockedVersion(pkg: string, lockFile = path.join(REPO_ROOT, "package-lock.json")): string {
    const lock = JSON.parse(fs.readFileSync(lockFile, "utf8")) as { packages?: Record<string, { version?: string }> };
    const version = lock.packages?.[`node_modules/${pkg}`]?.version;
    if (!version) throw new Error(`${pkg} is not in ${path.relative(REPO_ROOT, lockFile)}: run npm install first`);
    return version;
}

/** An upstream Go module built through a wrapper module of the project's own (scripts/real/go/<wrapper>). */
export interface GoModule {
    /** Directory under scripts/real/go holding go.mod.tmpl and tools.go. */
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
    source: GoModule;
    /** Main package to build. */
    pkg: string;
    /** Build tags. */
    tags?: string[];
    /** cgo on (Kratos' SQLite driver) or off (static, as upstream releases the others). */
    cgo: boolean;
    /** `-X importpath.name=value` the upstream build sets (the version the binary reports). */
    ldflagsX: Record<string, string>;
    /** Arguments that make the binary print its version: run once after the build, as a smoke test. */
    versionArgs: string[];
}

/** A component the Go module proxy does not serve here: probed each run, reported with the proxy's answer. */
export interface UnservedGoBinary {
    name: string;
    version: string;
    /** `module@version` probed with `go mod download`. */
    probe: string;
    /** Why it cannot be built from the module, when the proxy refuses it. */
    why: string;
}

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
    const kratos: GoModule = { wrapper: "kratos", module: "github.com/ory/kratos", version: KRATOS_VERSION };
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
        },
        {
            name: "kratos", version: KRATOS_VERSION, source: kratos, pkg: "github.com/ory/kratos", tags: ["sqlite"],
            cgo: true, ldflagsX: { "github.com/ory/kratos/driver/config.Version": KRATOS_VERSION }, versionArgs: ["version"],
        },
        {
            // Debian 12 has no kubectl package; built from the same module as the API server, so the versions match.
            name: "kubectl", version: KUBERNETES_VERSION, source: kubernetes, pkg: "k8s.io/kubernetes/cmd/kubectl",
            cgo: false, ldflagsX: k8sVersionX(KUBERNETES_VERSION), versionArgs: ["version", "--client"],
        },
    ];
}

export function unservedGoBinaries(): UnservedGoBinary[] {
    const pulumiVersion = `v${lockedVersion("@pulumi/pulumi")}`;
    const bridged = "the proxy does not serve the provider module at all, and even served it could not build: it replaces github.com/<terraform provider>/shim with ./shim, a nested module its zip leaves out";
    return [
        {
            name: "pulumi-language-nodejs", version: pulumiVersion,
            probe: `github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@${pulumiVersion}`,
            why: "the Node.js language host is a module of its own (sdk/nodejs/cmd/pulumi-language-nodejs/go.mod), left out of sdk/v3's zip",
        },
        {
            name: "pulumi-resource-kubernetes", version: `v${lockedVersion("@pulumi/kubernetes")}`,
            probe: `github.com/pulumi/pulumi-kubernetes/provider/v4@v${lockedVersion("@pulumi/kubernetes")}`,
            why: "provider/v4 has no release versions (the tags sit at the repository root); the proxy serves one pseudo-version, v4.0.0-20260115033456-f47bc2d6f199 (@latest, January 2026), not the release the SDK asks for",
        },
        {
            name: "pulumi-resource-random", version: `v${lockedVersion("@pulumi/random")}`,
            probe: `github.com/pulumi/pulumi-random/provider/v4@v${lockedVersion("@pulumi/random")}`, why: bridged,
        },
        {
            name: "pulumi-resource-tls", version: `v${lockedVersion("@pulumi/tls")}`,
            probe: `github.com/pulumi/pulumi-tls/provider/v5@v${lockedVersion("@pulumi/tls")}`, why: bridged,
        },
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
