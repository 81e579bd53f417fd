/**
 * Critical path of each TLS mode's resource graph (scripts/lib/engine/critical-path.ts): the longest chain of
 * provider operations `pulumi up` must run in sequence. Target: at most 4 in the default TLS mode.
 */
import { criticalPath } from "../scripts/lib/engine/critical-path";
import { runOffline } from "../scripts/lib/engine/offline-run";

const TARGET = 4;
const MODES = [
    { label: "cert-manager (default)", overrides: {} },
    { label: "self-signed", overrides: { tlsMode: "self-signed" } },
    { label: "provided", overrides: { tlsMode: "provided", tlsSecretName: "wildcard-tls" } },
];

async function main(): Promise<void> {
    const outcomes = await Promise.all(MODES.map((m) => runOffline({ stack: "demo", overrides: m.overrides })));
    let overTarget = false;
    outcomes.forEach((outcome, i) => {
        if (!outcome.ok) throw new Error(`render (${MODES[i].label}) failed: ${outcome.error}`);
        const path = criticalPath(outcome.resources);
        const isDefault = i === 0;
        const verdict = isDefault ? (path.length <= TARGET ? " (target <= 4) OK" : " (target <= 4) OVER TARGET") : "";
        if (isDefault && path.length > TARGET) overTarget = true;
        console.log(`critical path, ${MODES[i].label}: ${path.length} of ${outcome.resources.length} resources${verdict}`);
        console.log(`  ${path.chain.join("\n  -> ")}`);
    });
    if (overTarget) process.exitCode = 1;
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
