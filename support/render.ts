/**
 * Offline renders for tests, through the same runner as `npm run render`, cached on disk within a test run:
 * many test files render the same stack with the same options, and each render forks a worker that loads the
 * whole program. The cache key is a hash of the program (infra/, components/, domain/, Pulumi.yaml,
 * tsconfig.json), the stack file and the options; the cache lives while the run's test runner (this process'
 * parent) does, and is pruned when it is gone. A test about randomness passes `fresh: true`.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../domain/project";
import { OfflineRunOptions, runOffline } from "../scripts/lib/engine/offline-run";
import type { RecordedResource } from "../scripts/lib/engine/offline-run";

export type Rendered = Extract<Awaited<ReturnType<typeof runOffline>>, { ok: true }>;

/** What goes into a render: the program's sources and the stack file. */
const PROGRAM_PARTS = ["infra", "components", "domain", "Pulumi.yaml", "tsconfig.json"];
const CACHE_ROOT = path.join(os.tmpdir(), "dcm-render-cache");

/** The files of a directory or the file itself, sorted. */
function filesOf(p: string): string[] {
    if (!fs.existsSync(p)) return [];
    if (!fs.statSync(p).isDirectory()) return [p];
    return fs.readdirSync(p).sort().flatMap((e) => filesOf(path.join(p, e)));
}

/** The cache key of a render: the program, the stack file and the options, hashed. */
export function renderKey(options: OfflineRunOptions): string {
    const dir = options.projectDir ?? PROJECT_ROOT;
    const hash = crypto.createHash("sha256").update(JSON.stringify(options));
    const stackFile = options.stackFile ?? path.join(dir, "stacks", `Pulumi.${options.stack}.yaml`);
    for (const file of [...PROGRAM_PARTS.flatMap((p) => filesOf(path.join(options.programDir && p === "infra" ? options.programDir : path.join(dir, p)))), stackFile]) {
        hash.update(`\0${path.relative(dir, file)}\0`).update(fs.existsSync(file) ? fs.readFileSync(file) : "");
    }
    return hash.digest("hex");
}

/** This run's cache directory (the test runner's pid names it); those of finished runs are removed. */
function cacheDir(): string {
    const dir = process.env.DCM_RENDER_CACHE ?? path.join(CACHE_ROOT, String(process.ppid));
    if (!process.env.DCM_RENDER_CACHE && fs.existsSync(CACHE_ROOT)) {
        for (const run of fs.readdirSync(CACHE_ROOT)) {
            if (run === String(process.ppid)) continue;
            try {
                process.kill(Number(run), 0);
            } catch {
                fs.rmSync(path.join(CACHE_ROOT, run), { recursive: true, force: true });
            }
        }
    }
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

/**
 * Renders and fails the test with the program's own error if the render fails. Transpile-only unless asked:
 * `npm test` type checks the whole tree first, and test/scripts/render.test.ts covers the type-checking path.
 * @param options.fresh render anew even when this run rendered the same already (a test of randomness)
 */
export async function render(options: OfflineRunOptions & { fresh?: boolean }): Promise<Rendered> {
    const { fresh, ...rest } = options;
    const run = { typecheck: false, ...rest };
    const file = fresh ? undefined : path.join(cacheDir(), `${renderKey(run)}.json`);
    if (file && fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as Rendered;
    const outcome = await runOffline(run);
    assert.ok(outcome.ok, `render of ${options.stack} failed: ${!outcome.ok ? `${outcome.error}\n${outcome.stderr}` : ""}`);
    if (file) {
        // Written whole or not at all: a parallel test file may read it at any moment.
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(outcome));
        fs.renameSync(tmp, file);
    }
    return outcome as Rendered;
}

export function byType(r: Rendered, type: string): RecordedResource[] {
    return r.resources.filter((x) => x.type === type);
}

export function one(r: Rendered, type: string, name: string): RecordedResource {
    const found = r.resources.find((x) => x.type === type && x.name === name);
    assert.ok(found, `no ${type} named ${name}`);
    return found;
}
