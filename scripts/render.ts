/**
 * `npm run render -- <stack> [--out DIR] [--seed TEXT] [--diff REV]`: runs the real program for a stack's config
 * with no Pulumi CLI and no cluster, like `helm template`, and writes what the stack contains with every secret
 * masked; reproducibly with a seed; or, like `helm diff`, shows what changed since a git revision.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatTable, parseCommand, processIo, runCli, usageError } from "./lib/cli";
import { DIFF_EXIT, DIFF_SEED, diffStackAt } from "./lib/manifest-diff";
import { KubernetesObject, kubernetesObjects, manifestsYaml, maskForDisplay, seededRenderNote } from "./lib/engine/manifests";
import { phaseLine, renderForCommand } from "./lib/engine/offline-run";
import { placeholderDigestProblem } from "../domain/images";
import { containersOf, podSpecOf } from "../policies/lib/kubernetes";

const USAGE = `Usage: npm run render -- <stack> [--out DIR] [--seed TEXT]
       npm run render -- <stack> --diff REV [--seed TEXT]

Renders a bank's stack offline (Pulumi mock runtime with provider emulation) and writes
  DIR/manifests.yaml  every Kubernetes object, secrets masked
  DIR/summary.json    resources by type and name, stack outputs (secrets masked)
DIR defaults to out/<stack>. The stack's config is stacks/Pulumi.<stack>.yaml over Pulumi.yaml's defaults.
Progress goes to stderr.

  --seed TEXT  reproducible render: every generated password, key, id and name suffix is derived from TEXT
               and the resource's URN, so two renders of a commit are byte-identical (with tlsMode
               self-signed, certificate signatures stay random: summary.json's CA differs). NOT FOR DEPLOYMENT
               (said in manifests.yaml's first line, summary.json's "reproducible" and on stdout).
               Without it, generated values are random, new each render, as the providers make them.
  --diff REV   writes nothing; prints a unified diff of manifests.yaml (secrets masked) from the stack at the
               git revision REV to the working tree, both rendered with the seed (default "${DIFF_SEED}").
               A stack absent at REV shows as all added.

Exit codes: 0 rendered; 1 the program failed; 2 bad usage or invalid configuration.
With --diff: 0 no change; 1 changes; 2 bad usage, not a revision or invalid configuration; 3 a render failed.`;

export async function main(argv: string[]): Promise<number> {
    const args = parseCommand(argv, { out: { type: "string" }, seed: { type: "string" }, diff: { type: "string" } }, USAGE);
    if (typeof args === "number") return args;
    if (args.positionals.length !== 1) return usageError(processIo, "render takes exactly one stack name.", USAGE);
    const stack = args.positionals[0];
    const seed = args.values.seed;
    if (seed === "") return usageError(processIo, "--seed needs a non-empty text.", USAGE);
    if (args.values.diff !== undefined) {
        if (args.values.out !== undefined) return usageError(processIo, "--diff writes no files: it takes no --out.", USAGE);
        const { code, diff } = await diffStackAt({ stack, rev: args.values.diff, seed });
        processIo.out(diff);
        if (code === DIFF_EXIT.same || code === DIFF_EXIT.changed) {
            // stderr, so stdout stays a patch that tools read.
            processIo.err(`${code === DIFF_EXIT.same ? "no change" : "changes"} in ${stack}'s objects from ${args.values.diff} to the working tree (both rendered with the seed ${JSON.stringify(seed ?? DIFF_SEED)}).\n`);
        }
        return code;
    }
    const outDir = path.resolve(args.values.out ?? path.join("out", stack));
    const started = Date.now();
    const outcome = await renderForCommand(stack, undefined, { seed });
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
        ...(seed !== undefined ? { reproducible: { seed, notForDeployment: seededRenderNote(seed) } } : {}),
    };
    const manifestsFile = path.relative(process.cwd(), path.join(outDir, "manifests.yaml"));
    process.stderr.write(phaseLine(started, `writing ${manifestsFile} and summary.json`));
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "manifests.yaml"), manifestsYaml(outcome.resources, seed));
    fs.writeFileSync(path.join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);

    const objects = kubernetesObjects(outcome.resources);
    const rows = resources.map((r) => [r.type, r.name, r.type.startsWith("kubernetes:") ? objectName(r.outputs) : "", r.protect ? "yes" : ""]);
    process.stdout.write(formatTable(["TYPE", "NAME", "OBJECT", "PROTECTED"], rows));
    process.stdout.write(`\n${formatTable(["HOST", "PATHS", "TLS SECRET", "ROUTED BY"], hostRows(objects))}`);
    const notes = (outcome.outputs.edgeWarnings as string[] | undefined) ?? [];
    if (notes.length > 0) process.stdout.write(`\n${notes.map((n) => `EDGE: ${n}\n`).join("")}`);
    process.stdout.write(`\n${resources.length} resources (${objects.length} Kubernetes objects) in ${Date.now() - started} ms\n`);
    process.stdout.write(`wrote ${manifestsFile} and summary.json\n`);
    if (seed !== undefined) process.stdout.write(`${seededRenderNote(seed)}\n`);
    return 0;
}

/** One row per host and route: what it serves and which TLS Secret covers it ("none" is a finding). */
export function hostRows(objects: KubernetesObject[]): string[][] {
    const ingressRows = objects.filter((o) => o.kind === "Ingress").flatMap((o) => {
        const spec = o.spec as { rules?: { host?: string; http?: { paths?: { path?: string }[] } }[]; tls?: { hosts?: string[]; secretName?: string }[] };
        return (spec.rules ?? []).map((rule) => [
            rule.host ?? "*",
            (rule.http?.paths ?? []).map((p) => p.path ?? "/").join(", "),
            spec.tls?.find((t) => t.hosts?.includes(rule.host ?? ""))?.secretName ?? "none",
            `Ingress/${o.metadata.name}`,
        ]);
    });
    // Gateway API: a route's TLS is its parent listener's (an HTTPS listener of the ListenerSet, or of the bank's own
    // Gateway); an HTTP listener has none.
    type Listener = { name: string; protocol?: string; tls?: { certificateRefs?: { name?: string }[] } };
    const listeners = new Map<string, Listener>();
    for (const set of objects.filter((o) => o.kind === "ListenerSet" || o.kind === "Gateway")) {
        for (const l of ((set.spec as { listeners?: Listener[] }).listeners ?? [])) listeners.set(`${set.metadata.name}/${l.name}`, l);
    }
    const routeRows = objects.filter((o) => o.kind === "HTTPRoute").flatMap((o) => {
        type Rule = { matches?: { path?: { value?: string } }[]; filters?: { type?: string; requestRedirect?: { scheme?: string } }[]; backendRefs?: unknown[] };
        const spec = o.spec as { hostnames?: string[]; parentRefs?: { name: string; sectionName?: string }[]; rules?: Rule[] };
        const paths = (spec.rules ?? []).flatMap((r) => (r.matches ?? [{}]).map((m) => m.path?.value ?? "/")).join(", ");
        // A plain-HTTP listener is no finding when every rule on it only redirects to https.
        const onlyRedirects = (spec.rules ?? []).every((r) => !r.backendRefs?.length && (r.filters ?? []).some((f) => f.type === "RequestRedirect" && f.requestRedirect?.scheme === "https"));
        const secrets = (spec.parentRefs ?? []).map((p) => listeners.get(`${p.name}/${p.sectionName ?? ""}`))
            .map((l) => (l?.protocol === "HTTPS" ? l.tls?.certificateRefs?.map((c) => c.name).join("+") ?? "none" : onlyRedirects ? "(HTTP: redirects to https)" : "none"));
        return (spec.hostnames ?? ["*"]).map((host) => [host, paths, [...new Set(secrets)].join(", ") || "none", `HTTPRoute/${o.metadata.name}`]);
    });
    return [...ingressRows, ...routeRows].sort((a, b) => a[0].localeCompare(b[0]) || a[3].localeCompare(b[3]));
}

function objectName(outputs: Record<string, unknown>): string {
    const m = (outputs.metadata ?? {}) as { name?: string; namespace?: string };
    return `${String(outputs.kind ?? "")}/${m.namespace ? `${m.namespace}/` : ""}${m.name ?? ""}`;
}

if (require.main === module) runCli(main);
