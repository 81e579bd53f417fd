/**
 * `npm run real:setup`: builds and installs the real components `npm run test:real` runs against, into a cache
 * outside the repository, and records them in components.json. Idempotent; prints each build's time.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../domain/project";
import { formatTable, parseCommand, processIo, runCli, usageError } from "../scripts/lib/cli";
import { realCacheDir } from "./components";
import { DEBIAN_COMPONENTS, goBinaries } from "./recipes";
import { buildGo, installDebian, newReport, writeIndex } from "./setup";

const USAGE = `Usage: npm run real:setup [-- --only NAME[,NAME...]] [--upstream DIR]

Builds the real components into \${DCM_REAL_CACHE:-$HOME/.cache/dcm-integration}/<name>-<version>/ and
writes components.json there (nothing built is committed):
  from Go modules (go build, niced, two at once): kube-apiserver and kubectl (k8s.io/kubernetes),
    kratos-previous (github.com/ory/kratos v1.3.1, sqlite, cgo; the upgrade test's), pulumi (github.com/pulumi/pulumi/pkg/v3),
    pulumi-resource-kubernetes (github.com/pulumi/pulumi-kubernetes/provider/v4, go generate first),
    traefik (github.com/traefik/traefik/v3 v3.7.13, the Gateway API data plane; upstream's nested ext module
    written in, modules the proxy refuses pinned to served versions)
  from upstream source the module proxy does not serve (--upstream): pulumi-language-nodejs,
    pulumi-resource-random, pulumi-resource-tls, kratos (v26.2.0: a calendar tag, sqlite, cgo), and
    pulumi-kubernetes-operator (v2.9.0's manager, ./operator/cmd, with its CRDs kept beside it)
  Debian packages (apt-get install when missing): etcd (etcd-server), postgres-bin (postgresql), nginx
A component already in the cache for its version is not built again; the Pulumi CLI and its plugins are
taken from a user's installation (pulumi on PATH, $PULUMI_HOME/plugins) when its version is the pinned one.
A cold run of everything took 40 minutes on two cores (2380 s, empty Go caches; the kubernetes provider, 1124 s,
is the longest, the API server and the Pulumi CLI next); see docs/devops.md.

  --only NAME[,NAME...]   only these components (e.g. --only kube-apiserver,kubectl,etcd)
  --upstream DIR          the folder of upstream source trees (default: ../shared/upstream beside the
                          repository, when it exists)

Exit codes: 0 every component is ready; 1 a build or install failed (or has no source); 2 bad usage.`;

export async function main(argv: string[]): Promise<number> {
    const args = parseCommand(argv, { only: { type: "string" }, upstream: { type: "string" } }, USAGE, processIo, false);
    if (typeof args === "number") return args;
    const go = goBinaries();
    const debian = DEBIAN_COMPONENTS;
    const known = [...go.map((b) => b.name), ...debian.map((d) => d.name)];
    const only = args.values.only?.split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = (only ?? []).filter((n) => !known.includes(n));
    if (unknown.length > 0) return usageError(processIo, `--only: unknown component ${unknown.join(", ")} (known: ${known.join(", ")})`, USAGE);
    const wanted = <T extends { name: string }>(items: readonly T[]) => items.filter((i) => !only || only.includes(i.name));
    const defaultUpstream = path.resolve(PROJECT_ROOT, "..", "shared", "upstream");
    const upstream = args.values.upstream ? path.resolve(args.values.upstream) : fs.existsSync(defaultUpstream) ? defaultUpstream : undefined;
    if (args.values.upstream && !fs.existsSync(upstream!)) return usageError(processIo, `--upstream: ${args.values.upstream} does not exist`, USAGE);

    const cache = realCacheDir();
    const started = Date.now();
    const line = (text: string) => processIo.out(`[real:setup +${Math.round((Date.now() - started) / 1000)}s] ${text}\n`);
    line(`cache ${cache}`);
    const report = newReport();
    if (wanted(debian).length > 0) await installDebian(wanted(debian), cache, { line }, report);
    line(`upstream sources: ${upstream ?? "none (pass --upstream DIR to build what the module proxy does not serve)"}`);
    await buildGo(wanted(go), cache, { line }, report, upstream);
    const file = writeIndex(report);

    const rows = [
        ...report.built.map((b) => [b.name, b.version, `built in ${b.seconds} s`]),
        ...report.cached.map((n) => [n, report.index[n].version, "cached"]),
        ...report.preinstalled.map((n) => [n, report.index[n].version, `installed (${report.index[n].path})`]),
        ...wanted(debian).filter((d) => report.index[d.name]).map((d) => [d.name, report.index[d.name].version, "Debian package"]),
        ...report.failed.map((f) => [f.name, "", "FAILED (see above)"]),
    ];
    processIo.out(`\n${formatTable(["COMPONENT", "VERSION", "STATUS"], rows)}`);
    processIo.out(`wrote ${file} in ${Math.round((Date.now() - started) / 1000)} s\n`);
    return report.failed.length > 0 ? 1 : 0;
}

if (require.main === module) runCli(main);
