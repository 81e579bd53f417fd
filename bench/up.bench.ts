/**
 * Real deployment cost: the Pulumi CLI (v3.259.0, its Node.js language host and the providers from
 * `npm run real:setup`) against a real kube-apiserver, one bank's stack against the one-resource program,
 * both on the same CLI, plugin cache and API server, rounds interleaved so both see the same machine load.
 * `pulumi up` of a new stack (a new bank alias each round), then `pulumi preview` of that unchanged stack.
 * Prints medians, their ratios and whether each meets its target; it asserts nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { missingComponents } from "../real/components";
import { DEPLOYMENT_COMPONENTS, RealDeployment, startDeployment } from "../support/real/deployment";

const ROUNDS = 3;
const UP_TARGET = 2.5;
const PREVIEW_TARGET = 1.5;
const BASELINE_DIR = "one-resource";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function seconds(run: () => Promise<unknown>): Promise<number> {
    const start = process.hrtime.bigint();
    await run();
    return Number(process.hrtime.bigint() - start) / 1e9;
}

/** A new bank: the demo stack's data under another alias (the alias is the stack name, so each round is a new stack). */
function writeBank(d: RealDeployment, alias: string): void {
    const doc = YAML.parseDocument(fs.readFileSync(path.join(d.temp.dir, "stacks", "Pulumi.demo.yaml"), "utf8"));
    doc.setIn(["config", "dcm-integration:alias"], alias);
    fs.writeFileSync(path.join(d.temp.dir, "stacks", `Pulumi.${alias}.yaml`), doc.toString());
}

/** bench/one-resource as its own project beside the bank's (it has no Pulumi.yaml: the render bench runs it offline). */
function writeBaselineProject(d: RealDeployment): string {
    const dir = path.join(d.temp.dir, BASELINE_DIR);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify({
        name: "one-resource",
        description: "The real-deployment benchmark's baseline: one Namespace.",
        // As the bank's Pulumi.yaml: the same language host options.
        runtime: { name: "nodejs", options: { typescript: true } },
        main: `${path.relative(dir, path.join(__dirname, "one-resource"))}/`,
    }));
    return dir;
}

const line = (label: string, xs: number[]) => `${label} median ${median(xs).toFixed(1)} s over ${xs.length} runs (${xs.map((x) => x.toFixed(1)).join(", ")})`;
const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)} (target <= ${target}) ${ratio <= target ? "OK" : "OVER TARGET"}`;

async function main(): Promise<number> {
    const missing = missingComponents(DEPLOYMENT_COMPONENTS);
    if (missing.length) {
        console.error(`up benchmark needs the real components ${missing.join(", ")}: run \`npm run real:setup\``);
        return 2;
    }
    console.log("starting etcd, kube-apiserver and the Pulumi CLI sandbox...");
    const d = await startDeployment(["demo"]);
    try {
        const baselineDir = writeBaselineProject(d);
        const times = { bankUp: [] as number[], baseUp: [] as number[], bankPreview: [] as number[], basePreview: [] as number[] };
        let resources = "";
        for (let i = 1; i <= ROUNDS; i++) {
            const bank = `bench${i}`;
            const base = `baseline${i}`;
            writeBank(d, bank);
            await d.initStack(bank);
            await d.initStack(base, baselineDir);
            times.bankUp.push(await seconds(async () => {
                resources = /\+ (\d+) created/.exec(await d.pulumi(bank, ["up", "--yes", "--skip-preview"]))?.[1] ?? "?";
            }));
            times.baseUp.push(await seconds(() => d.pulumi(base, ["up", "--yes", "--skip-preview"], { cwd: baselineDir })));
            times.bankPreview.push(await seconds(() => d.pulumi(bank, ["preview", "--expect-no-changes"])));
            times.basePreview.push(await seconds(() => d.pulumi(base, ["preview", "--expect-no-changes"], { cwd: baselineDir })));
            console.log(`round ${i}: up ${times.bankUp[i - 1].toFixed(1)} s / ${times.baseUp[i - 1].toFixed(1)} s, preview ${times.bankPreview[i - 1].toFixed(1)} s / ${times.basePreview[i - 1].toFixed(1)} s`);
        }
        console.log(line(`pulumi up of a new bank (${resources} resources):`, times.bankUp));
        console.log(line("pulumi up of the one-resource program:  ", times.baseUp));
        console.log(line("pulumi preview of an unchanged bank:    ", times.bankPreview));
        console.log(line("pulumi preview of one-resource:         ", times.basePreview));
        console.log(`up ratio (bank / one-resource): ${verdict(median(times.bankUp) / median(times.baseUp), UP_TARGET)}`);
        console.log(`preview ratio (bank / one-resource): ${verdict(median(times.bankPreview) / median(times.basePreview), PREVIEW_TARGET)}`);
        return 0;
    } finally {
        await d.stop();
    }
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 1; });
