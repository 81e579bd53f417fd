/**
 * Render cost: one bank's whole stack against a one-resource program, both under the offline harness
 * (worker start, ts-node as the CLI configures it, emulated engine). Prints medians and their ratio.
 */
import * as path from "node:path";
import { runOffline } from "../scripts/lib/engine/offline-run";

const ROUNDS = 3;
const TARGET = 1.5;

async function timed(run: () => Promise<{ ok: boolean }>): Promise<number> {
    const start = process.hrtime.bigint();
    const outcome = await run();
    if (!outcome.ok) throw new Error(`render failed: ${(outcome as { error?: string }).error}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
    const bank: number[] = [];
    const baseline: number[] = [];
    const bankCount = { resources: 0 };
    // Warm the file cache once so neither side pays for the first read from disk.
    await runOffline({ stack: "demo" });
    for (let i = 0; i < ROUNDS; i++) {
        bank.push(await timed(async () => {
            const r = await runOffline({ stack: "demo" });
            if (r.ok) bankCount.resources = r.resources.length;
            return r;
        }));
        baseline.push(await timed(() => runOffline({ stack: "demo", programDir: path.join(__dirname, "one-resource") })));
    }
    const ratio = median(bank) / median(baseline);
    console.log(`render demo (${bankCount.resources} resources): median ${median(bank).toFixed(0)} ms over ${ROUNDS} runs`);
    console.log(`one-resource program:        median ${median(baseline).toFixed(0)} ms over ${ROUNDS} runs`);
    console.log(`render ratio (bank / one-resource): ${ratio.toFixed(2)} (target <= ${TARGET}) ${ratio <= TARGET ? "OK" : "OVER TARGET"}`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
