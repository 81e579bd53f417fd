/**
 * Webhook acknowledgement latency: 200 Jira deliveries (valid, invalid, replayed, badly signed) sent to
 * the receiver on loopback while onboarding jobs run (real offline renders). The receiver runs in its own
 * process with each job in a lower-priority child, as `npm run serve` does; this process only sends and times.
 * Prints p50/p99/max of the time to the HTTP answer; the target is p99 <= 100 ms.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import * as readline from "node:readline";
import { JiraClient } from "../scripts/lib/jira/client";
import { ReplayGuard } from "../scripts/lib/onboarding/delivery-state";
import { TicketReporter } from "../scripts/lib/onboarding/comment";
import { jsonLogger } from "../scripts/lib/onboarding/log";
import { loadMapping, mappedFields } from "../scripts/lib/onboarding/mapping";
import { runJobInChild } from "../scripts/lib/onboarding/job-runner";
import { OnboardingResult, precheck } from "../scripts/lib/onboarding/pipeline";
import { JobQueue } from "../scripts/lib/onboarding/queue";
import { createReceiver, signBody } from "../scripts/lib/onboarding/server";
import { readProject } from "../scripts/lib/engine/stack-config";
import { FakeStackBackend } from "../scripts/lib/engine/fake-stack-backend";
import { startFakeJira } from "../support/fake-jira-server";
import { automationBody, tempProject, webhookBody } from "../support/onboarding/fixtures";
import { PROJECT_ROOT } from "../domain/project";

const DELIVERIES = 200;
const CLIENTS = 4;
const TARGET_MS = 100;
const TOKEN = "bench-token";
const SECRET = "bench-secret";
const BANKS = ["lviv", "odesa", "kharkiv", "poltava"];

/** The stack backend each job process uses: the fake, with real offline renders. */
export function backendFor(workspaceDir: string): FakeStackBackend {
    return new FakeStackBackend({ projectDir: workspaceDir, cacheRenders: true, delayMs: 50 });
}

/** The service side, as `npm run serve` runs it: the receiver here, each job in a lower-priority child process. */
async function service(projectDir: string, jiraUrl: string): Promise<void> {
    const project = readProject(projectDir);
    const mappingFile = path.join(projectDir, "jira-mapping.yaml");
    const mapping = loadMapping(mappingFile);
    const log = jsonLogger(() => undefined);
    const client = new JiraClient({ baseUrl: jiraUrl, email: "bench@dcm.example", apiToken: "t" });
    const queue = new JobQueue<OnboardingResult>({ concurrency: 2 });
    // Delivery state on disk, as `npm run serve` keeps it (every accepted id is appended to a file).
    const stateDir = path.join(projectDir, ".pulumi", "onboarding");
    const receiver = createReceiver({
        token: TOKEN, webhookSecret: SECRET, queue, log, mappedFields: mappedFields(mapping),
        replay: new ReplayGuard({ stateDir }),
        precheck: (d) => precheck(d, { project, mapping }),
        onboard: (d) => runJobInChild(d, { projectDir, mappingFile, workspacesDir: path.join(projectDir, "ws"), skipChecks: true, backendModule: __filename, stateDir }),
        reporter: new TicketReporter(client, mapping.transitions, log),
    });
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    process.on("SIGUSR2", () => loop.reset());
    process.once("SIGTERM", () => {
        const stats = { loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6, ...queue.stats() };
        void receiver.close(120_000).then(() => {
            process.stdout.write(`${JSON.stringify(stats)}\n`);
            process.exit(0);
        });
    });
    const { port } = await receiver.listen(0, "127.0.0.1");
    process.stdout.write(`${JSON.stringify({ port })}\n`);
}

async function main(): Promise<void> {
    const temp = tempProject();
    const jira = await startFakeJira("bench@dcm.example", "t");
    // Integration environments without a managed database: Kratos in dev mode, so the jobs deploy.
    fs.writeFileSync(path.join(temp.dir, "jira-mapping.yaml"), fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
    const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : []), "--require", "ts-node/register/transpile-only", __filename, "--service", temp.dir, jira.url], { stdio: ["ignore", "pipe", "inherit"] });
    const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const { port } = JSON.parse((await lines.next()).value as string) as { port: number };
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

    const request = (i: number): { body: string; headers: Record<string, string> } => {
        const bank = BANKS[i % BANKS.length];
        const fields = { alias: bank, displayName: `${bank[0].toUpperCase()}${bank.slice(1)} Bank`, firstEmployeeEmail: `it@${bank}.example`, keyKeeperUrl: `https://keys.${bank}.example` };
        const ticket = `DCMOPS-${300 + BANKS.indexOf(bank)}`;
        switch (i % 5) {
            case 0: { // a signed webhook, replayed every tenth delivery
                const body = JSON.stringify(webhookBody(ticket, fields));
                return { body, headers: { "x-hub-signature": signBody(SECRET, body), "x-atlassian-webhook-identifier": `d-${i % 10 === 0 ? 0 : i}` } };
            }
            case 1: return { body: JSON.stringify(automationBody(ticket, { ...fields, firstEmployeeEmail: "broken" })), headers: { "x-onboarding-token": TOKEN } };
            case 2: return { body: JSON.stringify(automationBody(ticket, fields)), headers: { "x-hub-signature": "sha256=00" } };
            default: return { body: JSON.stringify(automationBody(ticket, fields)), headers: { "x-onboarding-token": TOKEN } };
        }
    };
    const send = (i: number, method = "POST", urlPath = "/jira") => new Promise<{ ms: number; status: number; body: string }>((resolve, reject) => {
        const { body, headers } = method === "POST" ? request(i) : { body: "", headers: { "x-onboarding-token": TOKEN } };
        const started = process.hrtime.bigint();
        const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers } }, (res) => {
            let text = "";
            res.on("data", (c) => { text += c; });
            res.on("end", () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode ?? 0, body: text }));
        });
        req.on("error", reject);
        req.end(body);
    });
    const idle = async () => {
        for (let i = 0; i < 1200; i++) {
            const h = JSON.parse((await send(0, "GET", "/healthz")).body) as { queued: number; running: number };
            if (h.queued + h.running === 0) return;
            await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error("the warm-up job did not finish");
    };

    // Warm up as a running service would be (modules loaded, one bank deployed), then start the other
    // banks' first jobs, so the deliveries are measured while their renders run.
    const warm = await Promise.all([3, 1, 2].map((i) => send(i)));
    await idle();
    const warmJob = JSON.parse((await send(0, "GET", `/jobs/${(JSON.parse(warm[0].body) as { jobId: string }).jobId}`)).body) as { state: string };
    if (warmJob.state !== "succeeded") throw new Error(`warm-up job ${warmJob.state}`);
    for (const i of [8, 13, 18]) await send(i);
    // Let the two job processes start and reach their renders before measuring.
    await new Promise((r) => setTimeout(r, 4000));
    child.kill("SIGUSR2");
    const results: { ms: number; status: number }[] = [];
    let next = 0;
    const started = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < DELIVERIES; i = next++) results.push(await send(i));
    }));
    const wall = Date.now() - started;
    child.kill("SIGTERM");
    const stats = JSON.parse((await lines.next()).value as string) as { loopP99: number; loopMax: number; running: number; queued: number };
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const pct = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)];
    const byStatus = results.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    process.stdout.write(`${DELIVERIES} deliveries from ${CLIENTS} clients in ${wall} ms while jobs ran; answers ${Object.entries(byStatus).map(([s, n]) => `${s}x${n}`).join(" ")}\n`);
    process.stdout.write(`jobs at the end: ${stats.running} running, ${stats.queued} queued (abandoned on shutdown)\n`);
    process.stdout.write(`ack latency p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms\n`);
    process.stdout.write(`service event loop delay p99 ${stats.loopP99.toFixed(1)} ms, max ${stats.loopMax.toFixed(1)} ms; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores\n`);
    process.stdout.write(`p99 / target (${TARGET_MS} ms) = ${(pct(99) / TARGET_MS).toFixed(2)} -> ${pct(99) <= TARGET_MS ? "met" : "MISSED"}\n`);
    agent.destroy();
    await jira.close();
    temp.cleanup();
    process.exitCode = pct(99) <= TARGET_MS ? 0 : 1;
}

if (require.main === module && process.argv[2] === "--service") {
    service(process.argv[3], process.argv[4]).catch((e: unknown) => {
        process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
    });
} else if (require.main === module) {
    main().catch((e: unknown) => {
        process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
    });
}
