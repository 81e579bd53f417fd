/**
 * A workspace directory per stack: a Pulumi.yaml like the project's whose `main` and `stackConfigDir`
 * point back at the project's program and stack files. Each stack's Automation API runs get their own
 * workspace (the CLI keys its workspace settings, e.g. the selected stack, by the Pulumi.yaml path), so
 * parallel runs for different banks never select each other's stack.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import type { ProjectFile } from "../engine/stack-config";

/** Creates (or refreshes) `<root>/<stack>/Pulumi.yaml`; returns the directory. `stack` must be a validated alias. */
export function prepareWorkspace(project: ProjectFile, stack: string, root: string): string {
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(stack)) throw new Error("no workspace: the stack name is not a DNS label (not quoted: it may hold line breaks)");
    const dir = path.join(root, stack);
    fs.mkdirSync(dir, { recursive: true });
    const doc = YAML.parseDocument(fs.readFileSync(path.join(project.dir, "Pulumi.yaml"), "utf8"));
    const rel = (to: string) => path.relative(dir, to) || ".";
    doc.set("main", `${rel(project.programDir)}/`);
    doc.set("stackConfigDir", rel(project.stackConfigDir));
    const text = doc.toString();
    const file = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) fs.writeFileSync(file, text);
    return dir;
}
