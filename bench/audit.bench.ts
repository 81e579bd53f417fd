/**
 * Audit cost: a 5,000-step `pulumi preview --json` document (50 banks' worth of Deployments, Secrets, ConfigMaps,
 * NetworkPolicies, keys and passwords, every operation) turned into Markdown and HTML reports, policies included.
 * Prints milliseconds per step, measured in one run (median of rounds).
 */
import * as crypto from "node:crypto";
import { auditPreviews } from "../scripts/lib/audit/from-preview";
import { toHtml } from "../scripts/lib/audit/html";
import { toMarkdown } from "../scripts/lib/audit/markdown";
import { parsePreview } from "../scripts/lib/audit/preview";

const STEPS = 5000;
const ROUNDS = 3;
const TARGET = 0.4;

function previewDocument(steps: number): string {
    const out: unknown[] = [];
    const ops = ["same", "update", "create", "delete", "replace", "same", "update", "same"];
    for (let i = 0; out.length < steps; i++) {
        const bank = "bench";
        const ns = `bank-${bank}-integrate`;
        const op = ops[i % ops.length];
        const kind = i % 4;
        const stackUrn = `urn:pulumi:${bank}::dcm-integration::pulumi:pulumi:Stack::dcm-integration-${bank}`;
        const meta = (name: string) => ({ name, namespace: ns, labels: { "app.kubernetes.io/managed-by": "pulumi", "dcm/alias": bank, "app.kubernetes.io/instance": `${bank}-${i}` } });
        let type: string;
        let make: (v: number) => Record<string, unknown>;
        if (kind === 0) {
            type = "kubernetes:apps/v1:Deployment";
            make = (v) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: meta(`web-${i}`), spec: { replicas: 2, selector: { matchLabels: { app: `web-${i}` } }, template: { metadata: { labels: { app: `web-${i}` } }, spec: { containers: [{ name: "web", image: `registry.example.com/web:1.${v}.0`, env: [{ name: "MODE", value: `m${v}` }, { name: "DATABASE_URL", value: `postgres://u:pw${i}x${v}@db/x` }], resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } } }] } } } });
        } else if (kind === 1) {
            type = "kubernetes:core/v1:Secret";
            make = (v) => ({ apiVersion: "v1", kind: "Secret", metadata: meta(`creds-${i}`), type: "Opaque", stringData: `[secret]`, _v: v });
        } else if (kind === 2) {
            type = "kubernetes:core/v1:ConfigMap";
            make = (v) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: meta(`cfg-${i}`), data: { "settings.json": JSON.stringify({ level: v, host: `api-${i}.example.com` }), token: `plain-token-${i}-${v}` } });
        } else {
            type = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
            make = (v) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta(`np-${i}`), spec: { podSelector: { matchLabels: { app: `web-${i}` } }, policyTypes: ["Ingress"], ingress: v ? [{ ports: [{ port: 8080 + v }] }] : [] } });
        }
        const urn = `urn:pulumi:${bank}::dcm-integration::pulumi:pulumi:Stack$${type}::r-${i}`;
        const state = (v: number) => ({ urn, custom: true, type, inputs: make(v), outputs: make(v), parent: stackUrn, ...(kind === 1 ? { protect: true, additionalSecretOutputs: ["data", "stringData"] } : {}) });
        const detailedDiff = kind === 0 ? { "spec.template.spec.containers[0].image": { kind: "update", inputDiff: false }, "spec.template.spec.containers[0].env[0].value": { kind: "update", inputDiff: false } } : kind === 3 ? { "spec.ingress": { kind: "update", inputDiff: false } } : { data: { kind: "update", inputDiff: false } };
        const step: Record<string, unknown> = { op, urn, provider: `urn:pulumi:${bank}::dcm-integration::pulumi:providers:kubernetes::default::0` };
        if (op !== "create") step.oldState = state(0);
        if (op !== "delete") step.newState = state(op === "same" ? 0 : 1);
        if (op === "update" || op === "replace") Object.assign(step, { diffReasons: Object.keys(detailedDiff), detailedDiff, ...(op === "replace" ? { replaceReasons: ["metadata"] } : {}) });
        out.push(step);
    }
    return JSON.stringify({ config: { "dcm-integration:alias": "bench" }, steps: out, diagnostics: [], changeSummary: { same: 0 } }, null, 4);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
    const text = previewDocument(STEPS);
    // The command hashes the bytes it read (for the evidence) before it decodes them: done once here, as a read is.
    const digest = crypto.createHash("sha256").update(text).digest("hex");
    const times: number[] = [];
    let size = 0;
    for (let round = 0; round < ROUNDS + 1; round++) {
        const start = process.hrtime.bigint();
        const report = auditPreviews([parsePreview(text, "bench.json", digest)]);
        size = toMarkdown(report).length + toHtml(report).length;
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        // The first round warms the JIT and loads the policy pack; it is not counted.
        if (round > 0) times.push(ms);
    }
    const perStep = median(times) / STEPS;
    console.log(`audit of a ${STEPS}-step preview (${(text.length / 1e6).toFixed(1)} MB JSON -> ${(size / 1e6).toFixed(1)} MB of Markdown + HTML): median ${median(times).toFixed(0)} ms over ${ROUNDS} runs`);
    console.log(`audit ms per step: ${perStep.toFixed(3)} (target <= ${TARGET}) ${perStep <= TARGET ? "OK" : "OVER TARGET"}`);
}

main();
