/**
 * The laptop trial's scratch project. `onboard --offline` and `serve --offline` without `--project` write
 * their stack files, workspaces and receiver state into a project of their own under the OS temp directory,
 * never into the repository: a trial bank in the repository's stacks/ would join `npm run fleet`, fail
 * `npm run audit -- --render-diff` and later refuse the real ticket for its alias as "another bank's".
 *
 * The scratch project is a Pulumi.yaml whose `main` points back at the repository's program (so the
 * offline render is the real one) and its own stacks/, seeded with copies of the repository's stack files
 * (so a trial is refused an alias that a real bank holds, as the real run would be).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { listStacks, ProjectFile, readProject, stackFilePath } from "../engine/stack-config";

/**
 * Where the trial of a repository goes: `<OS temp dir>/dcm-integration-trial-<hash of the repository path>`.
 * Outside the repository, so nothing that reads the repository (fleet, audit, git, the scan) sees a trial
 * bank; one per repository and the same on every run, so an `onboard` trial and a `serve` trial share banks.
 */
export function trialProjectDir(repository: ProjectFile, tmpDir = os.tmpdir()): string {
    const hash = crypto.createHash("sha256").update(repository.dir).digest("hex").slice(0, 12);
    return path.join(tmpDir, `dcm-integration-trial-${hash}`);
}

/**
 * Creates (or refreshes) the scratch project in `dir` and returns it: its Pulumi.yaml (the repository's,
 * with `main` pointing at the repository's program and `stackConfigDir: stacks`) and stacks/ with every
 * repository stack file copied in (a repository file replaces a trial file of the same name). Trial banks
 * stay between runs. Refuses a `dir` that is not a directory of this user (a shared temp directory).
 */
export function prepareTrialProject(repository: ProjectFile, dir = trialProjectDir(repository)): ProjectFile {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = fs.lstatSync(dir);
    if (!stat.isDirectory() || (process.getuid && stat.uid !== process.getuid())) {
        throw new Error(`the trial project ${dir} is not a directory of this user; remove it, or pass --project DIR`);
    }
    const doc = YAML.parseDocument(fs.readFileSync(path.join(repository.dir, "Pulumi.yaml"), "utf8"));
    doc.set("main", `${path.relative(dir, repository.programDir)}/`);
    doc.set("stackConfigDir", "stacks");
    writeIfChanged(path.join(dir, "Pulumi.yaml"), doc.toString());
    fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
    const trial = readProject(dir);
    for (const stack of listStacks(repository)) {
        const real = stackFilePath(repository, stack);
        if (fs.existsSync(real)) writeIfChanged(stackFilePath(trial, stack), fs.readFileSync(real, "utf8"));
    }
    return trial;
}

function writeIfChanged(file: string, text: string): void {
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) fs.writeFileSync(file, text);
}
