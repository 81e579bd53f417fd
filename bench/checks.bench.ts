/**
 * Check-run concurrency: every check against loopback servers (real TLS, the reference key keeper, the fake
 * DCM API) with injected latencies. Prints the run's wall time divided by its slowest single check; 1.0
 * means nothing waited for anything else. The scenario's steps run in order by design (later steps use
 * earlier captures): the second figure counts the whole scenario as one check.
 */
import { runChecks } from "../scripts/lib/checks";
import type { CheckReport } from "../scripts/lib/checks";
import { startEnvironment } from "../support/checks/environment";

const ROUNDS = 3;
const TARGET = 1.3;
const LATENCY = { backoffice: 80, api: 120, plain: 40, keyKeeper: 200 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function ratios(report: CheckReport): { independent: number; withScenario: number; slowest: string } {
    const independent = report.results.filter((r) => !r.id.startsWith("scenario-"));
    const slowest = independent.reduce((a, r) => (r.ms > a.ms ? r : a));
    const scenarioMs = report.results.filter((r) => r.id.startsWith("scenario-")).reduce((a, r) => a + r.ms, 0);
    return { independent: report.ms / slowest.ms, withScenario: report.ms / Math.max(slowest.ms, scenarioMs), slowest: `${slowest.id} ${slowest.ms} ms` };
}

async function main(): Promise<void> {
    const env = await startEnvironment({
        faults: Object.fromEntries(Object.entries(LATENCY).map(([role, latencyMs]) => [role, { latencyMs }])),
        dcm: { confirmAfterPolls: 1 },
    });
    try {
        const run = (skip: string[]) => runChecks({ stack: "demo", outputs: env.outputs, resolve: env.resolve, caPem: [env.caPem], deadlineMs: 30_000, skip });
        // Warm-up: module loading, key imports, TLS session setup code paths.
        await run(["scenario-*"]);
        const independent: number[] = [];
        const withScenario: number[] = [];
        let last: CheckReport | undefined;
        for (let i = 0; i < ROUNDS; i++) {
            const a = await run(["scenario-*"]);
            if (!a.passed) throw new Error(`checks failed: ${a.results.filter((r) => r.status === "fail").map((r) => `${r.id}: ${r.reason}`).join("; ")}`);
            independent.push(ratios(a).independent);
            last = a;
            const b = await run([]);
            if (!b.passed) throw new Error("the scenario failed");
            withScenario.push(ratios(b).withScenario);
        }
        const r = median(independent);
        console.log(`latencies (ms): ${Object.entries(LATENCY).map(([k, v]) => `${k} ${v}`).join(", ")}`);
        console.log(`${last!.results.length} independent checks: wall ${last!.ms} ms, slowest ${ratios(last!).slowest} (last round)`);
        console.log(`wall / slowest check (independent checks): median ${r.toFixed(2)} over ${ROUNDS} runs (target <= ${TARGET}) ${r <= TARGET ? "OK" : "OVER TARGET"}`);
        console.log(`wall / slowest check (with the scenario as one check): median ${median(withScenario).toFixed(2)} over ${ROUNDS} runs`);
        if (r > TARGET) process.exitCode = 1;
    } finally {
        await env.close();
    }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
