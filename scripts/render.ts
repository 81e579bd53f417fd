/**
 * `npm run render -- <stack> [--out DIR]`: runs the real program for a stack's config with no Pulumi CLI
 * and no cluster, like `helm template`, and writes what the stack contains with every secret masked.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatTable, parseCommand, processIo, runCli, usageError } from "./lib/cli";
import { KubernetesObject, kubernetesObjects, manifestsYaml, maskForDisplay } from "./lib/manifests";
import { renderForCommand } from "./lib/offline-run";
import { placeholderDigestProblem } from "../infra/images";
import { containersOf, podSpecOf } from "../policies/lib/kubernetes";

const USAGE = `Usage: npm run render -- <stack> [--out DIR]

Renders a bank's stack offline (Pulumi mock runtime with provider emulation) and writes
  DIR/manifests.yaml  every Kubernetes object, secrets masked
  DIR/summary.json    resources by type and name, stack outputs (secrets masked)
DIR defaults to out/<stack>. The stack's config is stacks/Pulumi.<stack>.yaml over Pulumi.yaml's defaults.

Exit codes: 0 rendered; 1 the program failed; 2 bad usage or invalid configuration.`;

export async function main(argv: string[]): Promise<number> {
    const args = parseCommand(argv, { out: { type: "string" } }, USAGE);
    if (typeof args === "number") return args;
    if (args.positionals.length !== 1) return usageError(processIo, "render takes exactly one stack name.", USAGE);
    const stack = args.positionals[0];
    const outDir = path.resolve(args.values.out ?? path.join("out", stack));
    const started = Date.now();
    const outcome = await renderForCommand(stack);
    if (typeof outcome === "number") return outcome;
    for (const key of outcome.stackConfig.placeholders) {
        process.stderr.write(`note: ${key} is encrypted; the offline render used a placeholder for it.\n`);
    }
    const resources = outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
    // Loud, not fatal: a new bank renders before DCM's release sets the frontend's digest, but must not deploy so.
    for (const r of resources) {
        const spec = podSpecOf(r.type, r.outputs as Record<string, unknown>);
        for (const { where, container } of spec ? containersOf(spec) : []) {
            const problem = placeholderDigestProblem(container.image);
            if (problem) process.stderr.write(`WARNING: ${r.type} ${r.name} ${where} ${problem}.\n`);
        }
    }
    const summary = {
        project: outcome.project,
        stack: outcome.stack,
        resourceCount: resources.length,
        resources: resources.map((r) => ({
            type: r.type,
            name: r.name,
            ...(r.type.startsWith("kubernetes:") ? { object: objectName(r.outputs) } : {}),
            ...(r.protect ? { protect: true } : {}),
        })),
        outputs: maskForDisplay(outcome.outputs),
    };
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "manifests.yaml"), manifestsYaml(outcome.resources));
    fs.writeFileSync(path.join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);

    const objects = kubernetesObjects(outcome.resources);
    const rows = resources.map((r) => [r.type, r.name, r.type.startsWith("kubernetes:") ? objectName(r.outputs) : "", r.protect ? "yes" : ""]);
    process.stdout.write(formatTable(["TYPE", "NAME", "OBJECT", "PROTECTED"], rows));
    process.stdout.write(`\n${formatTable(["HOST", "PATHS", "TLS SECRET", "INGRESS"], hostRows(objects))}`);
    process.stdout.write(`\n${resources.length} resources (${objects.length} Kubernetes objects) in ${Date.now() - started} ms\n`);
    process.stdout.write(`wrote ${path.relative(process.cwd(), path.join(outDir, "manifests.yaml"))} and summary.json\n`);
    return 0;
}

/** One row per Ingress host: what it serves and which TLS Secret covers it ("none" is a finding). */
function hostRows(objects: KubernetesObject[]): string[][] {
    return objects.filter((o) => o.kind === "Ingress").flatMap((o) => {
        const spec = o.spec as { rules?: { host?: string; http?: { paths?: { path?: string }[] } }[]; tls?: { hosts?: string[]; secretName?: string }[] };
        return (spec.rules ?? []).map((rule) => [
            rule.host ?? "*",
            (rule.http?.paths ?? []).map((p) => p.path ?? "/").join(", "),
            spec.tls?.find((t) => t.hosts?.includes(rule.host ?? ""))?.secretName ?? "none",
            o.metadata.name,
        ]);
    }).sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

function objectName(outputs: Record<string, unknown>): string {
    const m = (outputs.metadata ?? {}) as { name?: string; namespace?: string };
    return `${String(outputs.kind ?? "")}/${m.namespace ? `${m.namespace}/` : ""}${m.name ?? ""}`;
}

if (require.main === module) runCli(main);
