/**
 * real:setup's steps: Debian packages, Go builds through wrapper modules (two at once, niced), the probe of
 * what the module proxy does not serve, and components.json. Idempotent: a component whose binary is in the
 * cache for its version is not built again.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ComponentIndex, componentsFile, readComponents, realCacheDir } from "./components";
import { DebianComponent, GO_WRAPPERS, GoBinary, GoModule, isSourceTree, SourceTree } from "./recipes";
import { run, runChecked } from "./run";

export interface SetupIo {
    /** One progress line. */
    line(text: string): void;
}

export interface SetupReport {
    built: { name: string; version: string; seconds: number }[];
    cached: string[];
    /** Components taken from a user's installation of the same version (the official Pulumi CLI and plugins). */
    preinstalled: string[];
    installed: string[];
    failed: { name: string; reason: string }[];
    index: ComponentIndex;
}

/** Go builds run at most this many at once: the machine has two cores. */
const PARALLEL_BUILDS = 2;

export function binaryPath(cache: string, name: string, version: string): string {
    return path.join(cache, `${name}-${version}`, name);
}

/** `go` with the toolchain that is installed (never a downloaded one) and no workspace file in the way. */
function goEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, GOTOOLCHAIN: "local", GOWORK: "off", GOFLAGS: "-mod=mod", ...extra };
}

async function dpkgVersion(pkg: string): Promise<string | undefined> {
    const r = await run("dpkg-query", ["-W", "-f=${Status}\t${Version}", pkg]);
    const [status, version] = r.output.split("\t");
    return r.code === 0 && status?.endsWith(" installed") ? version?.trim() : undefined;
}

/** apt-get installs the missing packages (`apt-get update` first, once). */
export async function installDebian(components: readonly DebianComponent[], cache: string, io: SetupIo, report: SetupReport): Promise<void> {
    const missing = [];
    for (const c of components) if (!(await dpkgVersion(c.pkg)) || !c.locate()) missing.push(c.pkg);
    if (missing.length > 0) {
        const log = logFile(cache, "apt-get.log");
        io.line(`apt-get install ${missing.join(" ")} (log: ${log})`);
        const started = Date.now();
        const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
        await runChecked("apt-get", ["update"], { logFile: log, env });
        await runChecked("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { logFile: log, env });
        io.line(`apt-get install done in ${seconds(started)} s`);
        report.installed.push(...missing);
    }
    for (const c of components) {
        const where = c.locate();
        const version = await dpkgVersion(c.pkg);
        if (!where || !version) {
            report.failed.push({ name: c.name, reason: `Debian package ${c.pkg} installed but ${c.name} not found` });
            continue;
        }
        report.index[c.name] = { version, path: where };
        io.line(`${c.name}: ${where} (Debian ${c.pkg} ${version})`);
    }
}

const seconds = (since: number) => Math.round((Date.now() - since) / 1000);

/** A fresh log file under the cache's logs/ directory. */
function logFile(cache: string, name: string): string {
    const file = path.join(cache, "logs", name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.rmSync(file, { force: true });
    return file;
}

/** The wrapper module's work directory, prepared once per run: go.mod from the template, tools.go, `go mod tidy`. */
async function prepareModule(source: GoModule, cache: string, io: SetupIo): Promise<string> {
    const work = path.join(cache, "work", `${source.wrapper}-${source.version}`);
    const log = logFile(cache, `${source.wrapper}-${source.version}.prepare.log`);
    fs.mkdirSync(work, { recursive: true });
    const started = Date.now();
    io.line(`${source.module}@${source.version}: downloading and resolving the wrapper module (log: ${log})`);
    // Outside any module: the work directory's go.mod is the one about to be written.
    const info = JSON.parse(await runChecked("go", ["mod", "download", "-json", `${source.module}@${source.version}`], { cwd: path.dirname(work), env: goEnv() })) as { GoMod?: string; Error?: string };
    if (info.Error || !info.GoMod) throw new Error(`go mod download ${source.module}@${source.version}: ${info.Error ?? "no go.mod"}`);
    let goMod = fs.readFileSync(path.join(GO_WRAPPERS, source.wrapper, "go.mod.tmpl"), "utf8").replaceAll("{{VERSION}}", source.version);
    if (source.replaces) goMod = goMod.replace("{{REPLACES}}", source.replaces(fs.readFileSync(info.GoMod, "utf8"), source.version));
    fs.writeFileSync(path.join(work, "go.mod"), goMod);
    fs.copyFileSync(path.join(GO_WRAPPERS, source.wrapper, "tools.go"), path.join(work, "tools.go"));
    await runChecked("go", ["mod", "tidy"], { cwd: work, env: goEnv(), logFile: log });
    io.line(`${source.module}@${source.version}: resolved in ${seconds(started)} s`);
    return work;
}

/**
 * A source tree's work directory, made afresh: the tree copied from the module cache or the upstream directory
 * (a folder, or a .tar.gz of one folder), then upstream's own steps: go.mod edits, tidy, generate.
 */
async function prepareTree(tree: SourceTree, cache: string, upstreamDir: string | undefined, io: SetupIo): Promise<string> {
    const work = path.join(cache, "work", tree.id);
    const log = logFile(cache, `${tree.id}.prepare.log`);
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    const started = Date.now();
    const origin = tree.origin;
    if (origin.kind === "module") {
        io.line(`${origin.module}@${origin.version}: downloading the module (log: ${log})`);
        const info = JSON.parse(await runChecked("go", ["mod", "download", "-json", `${origin.module}@${origin.version}`], { cwd: path.dirname(work), env: goEnv() })) as { Dir?: string; Error?: string };
        if (info.Error || !info.Dir) throw new Error(`go mod download ${origin.module}@${origin.version}: ${info.Error ?? "no Dir"}`);
        fs.cpSync(info.Dir, work, { recursive: true });
    } else {
        const source = upstreamDir && path.join(upstreamDir, origin.entry);
        if (!source || !fs.existsSync(source)) {
            throw new Error(`no source for ${tree.id}: the module proxy does not serve it; pass --upstream DIR, a folder holding ${origin.entry} (the upstream tree at its release tag)${upstreamDir ? ` (looked in ${upstreamDir})` : ""}`);
        }
        io.line(`${tree.id}: copying ${source} (log: ${log})`);
        if (origin.entry.endsWith(".tar.gz")) await runChecked("tar", ["-xzf", source, "-C", work, "--strip-components=1"], { logFile: log });
        else fs.cpSync(source, work, { recursive: true });
    }
    // Module cache and upstream copies are read-only; go.mod edits and generated files need to write.
    await runChecked("chmod", ["-R", "u+w", work]);
    for (const [file, text] of Object.entries(tree.files ?? {})) {
        fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
        fs.writeFileSync(path.join(work, file), text);
    }
    if (tree.modEdits?.length) await runChecked("go", ["mod", "edit", ...tree.modEdits], { cwd: work, env: goEnv(), logFile: log });
    if (tree.tidy) await runChecked("go", ["mod", "tidy"], { cwd: work, env: goEnv(), logFile: log });
    if (tree.generate) await runChecked("go", ["generate", tree.generate.pkg], { cwd: work, env: goEnv({ VERSION: tree.generate.version }), logFile: log });
    io.line(`${tree.id}: prepared in ${seconds(started)} s`);
    return work;
}

async function buildBinary(b: GoBinary, work: string, cache: string, io: SetupIo): Promise<number> {
    const out = binaryPath(cache, b.name, b.version);
    const log = logFile(cache, `${b.name}-${b.version}.build.log`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const ldflags = ["-s", "-w", ...Object.entries(b.ldflagsX).map(([k, v]) => `-X ${k}=${v}`)].join(" ");
    const args = ["-n", "10", "go", "build", "-trimpath", ...(b.tags ? ["-tags", b.tags.join(",")] : []), "-ldflags", ldflags, "-o", `${out}.partial`, b.pkg];
    io.line(`${b.name} ${b.version}: building ${b.pkg}${b.cgo ? " (cgo)" : ""} (log: ${log})`);
    const started = Date.now();
    await runChecked("nice", args, { cwd: work, env: goEnv({ CGO_ENABLED: b.cgo ? "1" : "0" }), logFile: log });
    const version = b.versionArgs ? (await runChecked(`${out}.partial`, b.versionArgs)).trim().split("\n")[0] : "built";
    for (const k of b.keep ?? []) {
        fs.rmSync(path.join(path.dirname(out), k.to), { recursive: true, force: true });
        fs.cpSync(path.join(work, k.from), path.join(path.dirname(out), k.to), { recursive: true });
    }
    // Renamed only once it built and ran: a half-written binary is never taken for a cached one.
    fs.renameSync(`${out}.partial`, out);
    const took = seconds(started);
    io.line(`${b.name} ${b.version}: built in ${took} s (${version.slice(0, 100)})`);
    return took;
}

/**
 * Builds what is neither installed at its version nor cached, two at a time; one failure does not stop the others.
 * `upstreamDir` holds the upstream trees the module proxy does not serve.
 */
export async function buildGo(binaries: readonly GoBinary[], cache: string, io: SetupIo, report: SetupReport, upstreamDir?: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
    const todo: GoBinary[] = [];
    for (const b of binaries) {
        const out = binaryPath(cache, b.name, b.version);
        const installed = b.installed?.(env);
        if (installed) {
            io.line(`${b.name} ${b.version}: installed (${installed})`);
            report.preinstalled.push(b.name);
            report.index[b.name] = { version: b.version, path: installed };
        } else if (fs.existsSync(out) && keptFilesPresent(b, cache)) {
            io.line(`${b.name} ${b.version}: cached (${out})`);
            report.cached.push(b.name);
            report.index[b.name] = { version: b.version, path: out };
        } else {
            todo.push(b);
        }
    }
    // Each wrapper module is resolved once, before its first build, even when two builds share it.
    const prepared = new Map<string, Promise<string>>();
    const prepare = (s: GoModule | SourceTree) => {
        const key = isSourceTree(s) ? `tree:${s.id}` : `${s.wrapper}@${s.version}`;
        if (!prepared.has(key)) prepared.set(key, isSourceTree(s) ? prepareTree(s, cache, upstreamDir, io) : prepareModule(s, cache, io));
        return prepared.get(key)!;
    };
    const queue = [...todo];
    const worker = async () => {
        for (let b = queue.shift(); b; b = queue.shift()) {
            try {
                const work = await prepare(b.source);
                const took = await buildBinary(b, work, cache, io);
                report.built.push({ name: b.name, version: b.version, seconds: took });
                report.index[b.name] = { version: b.version, path: binaryPath(cache, b.name, b.version) };
            } catch (e) {
                io.line(`${b.name} ${b.version}: FAILED\n${(e as Error).message}`);
                report.failed.push({ name: b.name, reason: (e as Error).message });
            }
        }
    };
    await Promise.all(Array.from({ length: PARALLEL_BUILDS }, worker));
}

/** Whether the source files a binary keeps beside it (GoBinary.keep) are there: a cache from before they were kept rebuilds. */
function keptFilesPresent(b: GoBinary, cache: string): boolean {
    return (b.keep ?? []).every((k) => fs.existsSync(path.join(path.dirname(binaryPath(cache, b.name, b.version)), k.to)));
}

/** An empty report: its index holds only what this run finds or builds. */
export function newReport(): SetupReport {
    return { built: [], cached: [], preinstalled: [], installed: [], failed: [], index: {} };
}

/**
 * components.json: what this run found or built, over what the file holds when written (read then, not at the
 * start, so two runs with different --only lists at once keep each other's entries).
 */
export function writeIndex(report: SetupReport, env: NodeJS.ProcessEnv = process.env): string {
    const file = componentsFile(env);
    fs.mkdirSync(realCacheDir(env), { recursive: true });
    const merged = { ...readComponents(env), ...report.index };
    const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
    fs.writeFileSync(`${file}.partial.${process.pid}`, `${JSON.stringify(sorted, null, 2)}\n`);
    fs.renameSync(`${file}.partial.${process.pid}`, file);
    return file;
}
