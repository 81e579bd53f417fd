/**
 * `fleet -- operator`'s work: every bank's settings validated (platform settings with them, once), its offline render
 * (what its stack manages, for the workspace's rights), its operator objects, our policy over all of them; then
 * written to a directory and/or applied server-side. Nothing is written or applied when any bank has a problem.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { formatProblems, OperatorSettings, RawConfig, SECRET_PRESENT, StackSettings } from "../../../domain/config";
import { placeholderDigestProblem } from "../../../domain/images";
import { validateStackConfig } from "../../../infra/validation";
import { KubernetesObject, kubernetesObjects } from "./manifests";
import { runOffline } from "./offline-run";
import { ProjectFile, stackFilePath } from "./stack-config";
import { admissionPolicyObjects, FIELD_MANAGER, OperatorBank, operatorNamespaceObject, operatorObjects, ProgramSource, stackNameProblem } from "./operator";
import { formatViolations, operatorPolicyViolations } from "./operator-policy";

/** A bank's raw config as the program sees it (project defaults under the stack file); secure: values only as present. */
export function bankRawConfig(project: ProjectFile, alias: string): RawConfig {
    const file = stackFilePath(project, alias);
    const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const own: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (!key.startsWith(`${project.name}:`)) continue;
        const isSecure = typeof value === "object" && value !== null && !Array.isArray(value) && "secure" in value;
        // The CLI hands the program scalars as strings (`true`, `600`); lists and maps stay structured.
        own[key.slice(project.name.length + 1)] = isSecure ? SECRET_PRESENT : typeof value === "object" && value !== null ? value : String(value);
    }
    const defaults = Object.fromEntries(Object.entries(project.defaults).map(([k, v]) => [k, typeof v === "object" && v !== null ? v : String(v)]));
    return { ...defaults, ...own } as RawConfig;
}

/** The bank's validated settings, or every problem with its config (platform settings included) and its Stack name. */
export function bankSettings(project: ProjectFile, alias: string): { ok: true; settings: StackSettings } | { ok: false; message: string } {
    const result = validateStackConfig(bankRawConfig(project, alias), alias);
    if (!result.ok) return { ok: false, message: formatProblems(result.problems, project.name, alias) };
    const nameRule = stackNameProblem(alias);
    if (nameRule) return { ok: false, message: formatProblems([{ key: "alias", message: nameRule.replace(/^alias '[^']*' /, "") }], project.name, alias) };
    return { ok: true, settings: result.settings };
}

export interface OperatorFleet {
    /** Shared objects (the operator's namespace). */
    platform: KubernetesObject[];
    banks: OperatorBank[];
    operator: OperatorSettings;
    /** Why a bank's workspace image cannot be pulled (a placeholder digest), by bank: `--apply` refuses while there is one. */
    unpullable: { alias: string; problem: string }[];
}

/**
 * Why the operator's workspace pods could not start with this image, or undefined. Pulumi.yaml ships a placeholder
 * digest (no registry was reachable where the default was written): a Stack applied with it gets a workspace whose
 * pull fails, and every update of that bank waits for nobody.
 */
export function workspaceImageProblem(settings: OperatorSettings): string | undefined {
    const problem = placeholderDigestProblem(settings.workspaceImage);
    return problem && `operatorWorkspaceImage: ${problem}`;
}

/** Renders every bank's objects; throws one error listing every bank's problems (and policy violations) at once. */
export async function renderOperatorFleet(project: ProjectFile, aliases: readonly string[], source: ProgramSource, opts: { concurrency?: number; progress?: (line: string) => void } = {}): Promise<OperatorFleet> {
    const problems: string[] = [];
    const banks: OperatorBank[] = [];
    const unpullable: OperatorFleet["unpullable"] = [];
    let operator: OperatorSettings | undefined;
    const queue = [...aliases];
    const worker = async () => {
        for (let alias = queue.shift(); alias !== undefined; alias = queue.shift()) {
            const s = bankSettings(project, alias);
            if (!s.ok) {
                problems.push(s.message);
                continue;
            }
            // The platform part is the same for every bank unless a stack file overrides it; the first one names the namespace.
            operator ??= s.settings.platform.operator;
            if (s.settings.platform.operator.namespace !== operator.namespace) {
                problems.push(`${alias}: operatorNamespace '${s.settings.platform.operator.namespace}' differs from the fleet's '${operator.namespace}': one operator namespace per fleet`);
                continue;
            }
            const imageProblem = workspaceImageProblem(s.settings.platform.operator);
            if (imageProblem) unpullable.push({ alias, problem: imageProblem });
            opts.progress?.(`${alias}: rendering`);
            const outcome = await runOffline({ stack: alias, projectDir: project.dir, typecheck: false });
            if (!outcome.ok) {
                problems.push(`${alias}: the offline render failed: ${outcome.error.split("\n").slice(0, 4).join(" | ")}`);
                continue;
            }
            banks.push(operatorObjects(s.settings, kubernetesObjects(outcome.resources), source));
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, aliases.length)) }, worker));
    if (problems.length > 0 || !operator) throw new Error(problems.join("\n") || "no bank to render");
    banks.sort((a, b) => a.alias.localeCompare(b.alias));
    const fleet = { platform: [operatorNamespaceObject(operator), ...admissionPolicyObjects(operator)], banks, operator, unpullable: unpullable.sort((a, b) => a.alias.localeCompare(b.alias)) };
    const violations = operatorPolicyViolations(allObjects(fleet));
    if (violations.length > 0) throw new Error(formatViolations(violations));
    return fleet;
}

export const allObjects = (fleet: Pick<OperatorFleet, "platform" | "banks">): KubernetesObject[] => [...fleet.platform, ...fleet.banks.flatMap((b) => b.objects)];

export const yamlStream = (objects: readonly KubernetesObject[]): string =>
    objects.map((o) => `---\n${YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`).join("");

/**
 * One file per bank (`<alias>.yaml`) and `platform.yaml`, written to a fresh temporary directory renamed into place:
 * a failure leaves no half-written set. Refuses a non-empty directory that holds other files.
 */
export function writeOperatorFleet(fleet: OperatorFleet, dir: string): string[] {
    const target = path.resolve(dir);
    const files = new Map<string, string>([["platform.yaml", yamlStream(fleet.platform)], ...fleet.banks.map((b) => [`${b.alias}.yaml`, yamlStream(b.objects)] as [string, string])]);
    if (fs.existsSync(target)) {
        const strangers = fs.readdirSync(target).filter((f) => !/^[a-z0-9-]+\.yaml$/.test(f));
        if (strangers.length > 0) throw new Error(`--out ${dir}: holds files that are not ours (${strangers.slice(0, 3).join(", ")}): choose an empty or new directory`);
    }
    const tmp = `${target}.partial-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    for (const [name, text] of files) fs.writeFileSync(path.join(tmp, name), text);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
    return [...files.keys()].map((f) => path.join(target, f));
}

/** How `--apply` reaches the cluster: kubectl with the kubeconfig's credentials. */
export interface ApplyTarget {
    /** kubectl binary (default `kubectl` on PATH). */
    kubectl?: string;
    /** Environment of kubectl (KUBECONFIG). */
    env?: NodeJS.ProcessEnv;
}

/** `kubectl apply --server-side` of the objects (stdin), as our field manager; rejects with kubectl's message. */
export function applyServerSide(objects: readonly KubernetesObject[], target: ApplyTarget = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(target.kubectl ?? "kubectl", ["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "-f", "-"], { env: target.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
        child.stderr.on("data", (d: Buffer) => { err += d.toString(); });
        child.on("error", (e) => reject(new Error(`kubectl could not start: ${e.message}`)));
        child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl apply --server-side failed (exit ${code}): ${err.trim().split("\n").slice(0, 6).join(" | ")}`))));
        child.stdin.end(yamlStream(objects));
    });
}
