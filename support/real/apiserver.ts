/**
 * A real Kubernetes control plane for tests, as controller-runtime's envtest starts one: etcd and kube-apiserver
 * on 127.0.0.1 ephemeral ports, a throwaway CA with a serving certificate and an admin client certificate, a
 * service-account signing key pair, and a kubeconfig. Only the API server: admission (validation, defaulting,
 * RBAC, Pod Security) happens there, so no controller manager, scheduler or kubelet is started, and nothing
 * that needs them (a Deployment's Pods, a Job's run, the default ServiceAccount of a new namespace) exists.
 *
 * Binaries come from `npm run real:setup` (components.json): kube-apiserver, etcd, kubectl.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { freePort } from "./process";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { vendoredCrds } from "../../scripts/lib/engine/kubernetes-schema";
import { realBinary } from "../../real/components";
import { x509 } from "../../scripts/lib/engine/x509";

export const CONTROL_PLANE_COMPONENTS = ["kube-apiserver", "etcd", "kubectl"] as const;

export interface ControlPlane {
    /** https://127.0.0.1:<port> */
    url: string;
    /** A kubeconfig for a cluster-admin user (client certificate in group system:masters). */
    kubeconfig: string;
    /** The serving CA (PEM), for clients. */
    caPem: string;
    /** Admin client certificate and key (PEM). */
    clientCertPem: string;
    clientKeyPem: string;
    /** The kubectl built with the API server. */
    kubectl: string;
    /** Scratch directory, removed on stop. */
    dir: string;
    /** Stops the API server then etcd and removes the directory; safe to call twice. */
    stop(): Promise<void>;
}

interface Pki { caPem: string; servingCertPem: string; servingKeyPem: string; clientCertPem: string; clientKeyPem: string }


const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

async function keyPair(): Promise<crypto.webcrypto.CryptoKeyPair> {
    return crypto.webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]) as Promise<crypto.webcrypto.CryptoKeyPair>;
}

async function privatePem(key: crypto.webcrypto.CryptoKey): Promise<string> {
    const der = Buffer.from(await crypto.webcrypto.subtle.exportKey("pkcs8", key));
    return x509().PemConverter.encode(der, "PRIVATE KEY");
}

/** A CA, a serving certificate for 127.0.0.1/localhost, and an admin client certificate; valid for a day. */
async function makePki(): Promise<Pki> {
    const lib = x509();
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + 24 * 3600_000);
    const serial = () => crypto.randomBytes(16).toString("hex").replace(/^[89a-f]/, "1");
    const caKeys = await keyPair();
    const ca = await lib.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(), name: "CN=dcm-real-test-ca", notBefore, notAfter, keys: caKeys, signingAlgorithm: EC,
        extensions: [
            new lib.BasicConstraintsExtension(true, undefined, true),
            new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.digitalSignature, true),
        ],
    });
    const leaf = async (name: string, usage: string, san: boolean) => {
        const keys = await keyPair();
        const cert = await lib.X509CertificateGenerator.create({
            serialNumber: serial(), subject: name, issuer: ca.subject, notBefore, notAfter, signingKey: caKeys.privateKey,
            publicKey: keys.publicKey, signingAlgorithm: EC,
            extensions: [
                new lib.BasicConstraintsExtension(false, undefined, true),
                new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature | lib.KeyUsageFlags.keyEncipherment, true),
                new lib.ExtendedKeyUsageExtension([usage], false),
                ...(san ? [new lib.SubjectAlternativeNameExtension([
                    { type: "ip", value: "127.0.0.1" }, { type: "dns", value: "localhost" },
                    // The in-cluster names the API server's own loopback client and bootstrap controller use.
                    { type: "dns", value: "kubernetes.default.svc" }, { type: "ip", value: "10.0.0.1" },
                ], false)] : []),
            ],
        });
        return { certPem: cert.toString("pem"), keyPem: await privatePem(keys.privateKey) };
    };
    const serving = await leaf("CN=kube-apiserver", lib.ExtendedKeyUsage.serverAuth, true);
    // Group system:masters: cluster-admin without any RBAC object, as kubeadm's admin.conf.
    const client = await leaf("CN=dcm-real-test-admin, O=system:masters", lib.ExtendedKeyUsage.clientAuth, false);
    return { caPem: ca.toString("pem"), servingCertPem: serving.certPem, servingKeyPem: serving.keyPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem };
}


interface Started { child: ChildProcess; log: string }

const running = new Set<ChildProcess>();
// The test runner's --test-force-exit ends the process without `after` hooks once tests are done or time out:
// whatever is still running is killed on the way out, so nothing outlives the test file.
process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
});

function start(binary: string, args: string[], logFile: string): Started {
    const out = fs.openSync(logFile, "a");
    const child = spawn(binary, args, { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    running.add(child);
    child.on("exit", () => running.delete(child));
    return { child, log: logFile };
}

async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
}

const logTail = (file: string, lines = 30) => {
    try {
        return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
        return "";
    }
};

/** Polls until `probe` resolves true, the process exits, or the deadline passes. */
async function waitFor(what: string, started: Started, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (started.child.exitCode !== null || started.child.signalCode !== null) {
            throw new Error(`${what} exited (${started.child.exitCode ?? started.child.signalCode}) before it was ready:\n${logTail(started.log)}`);
        }
        if (await probe().catch(() => false)) return;
        await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${what} not ready after ${timeoutMs / 1000} s:\n${logTail(started.log)}`);
}

function httpGet(url: string, tls: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = https.get(url, { ...tls, timeout: 2000 }, (res) => {
            let body = "";
            res.on("data", (d) => { body += d; });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

function httpGetPlain(url: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: 2000 }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

const addressInUse = (log: string) => /address already in use/i.test(logTail(log, 50));

async function startEtcd(dir: string, dataRoot: string): Promise<{ started: Started; clientUrl: string }> {
    for (let attempt = 1; ; attempt++) {
        const [client, peer] = [await freePort(), await freePort()];
        const clientUrl = `http://127.0.0.1:${client}`;
        const peerUrl = `http://127.0.0.1:${peer}`;
        const dataDir = path.join(dataRoot, `etcd-${attempt}`);
        const started = start(realBinary("etcd"), [
            "--name=default", `--data-dir=${dataDir}`,
            `--listen-client-urls=${clientUrl}`, `--advertise-client-urls=${clientUrl}`,
            `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
            `--initial-cluster=default=${peerUrl}`, "--initial-cluster-state=new",
            "--log-level=warn",
        ], path.join(dir, "etcd.log"));
        try {
            await waitFor("etcd", started, async () => (await httpGetPlain(`${clientUrl}/health`)) === 200, 30_000);
            return { started, clientUrl };
        } catch (e) {
            await stopProcess(started.child);
            if (attempt < 3 && addressInUse(started.log)) continue;
            throw e;
        }
    }
}

async function startApiServer(dir: string, etcdUrl: string, pki: Pki): Promise<{ started: Started; url: string }> {
    const file = (name: string, content: string) => {
        const p = path.join(dir, name);
        fs.writeFileSync(p, content, { mode: 0o600 });
        return p;
    };
    const ca = file("ca.crt", pki.caPem);
    const cert = file("apiserver.crt", pki.servingCertPem);
    const key = file("apiserver.key", pki.servingKeyPem);
    const sa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const saKey = file("sa.key", sa.privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const saPub = file("sa.pub", sa.publicKey.export({ type: "spki", format: "pem" }).toString());
    const tls = { ca: pki.caPem, cert: pki.clientCertPem, key: pki.clientKeyPem };
    for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const url = `https://127.0.0.1:${port}`;
        const started = start(realBinary("kube-apiserver"), [
            `--etcd-servers=${etcdUrl}`,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${port}`,
            `--tls-cert-file=${cert}`, `--tls-private-key-file=${key}`, `--client-ca-file=${ca}`,
            `--service-account-issuer=${url}`, `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`,
            "--service-cluster-ip-range=10.0.0.0/24",
            // As a production cluster: RBAC (and Node, as kubeadm), every default admission plugin (PodSecurity among them).
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            `--cert-dir=${dir}`,
            "--v=0",
        ], path.join(dir, "kube-apiserver.log"));
        try {
            await waitFor("kube-apiserver", started, async () => (await httpGet(`${url}/readyz`, tls)).status === 200, 90_000);
            return { started, url };
        } catch (e) {
            await stopProcess(started.child);
            if (attempt < 3 && addressInUse(started.log)) continue;
            throw e;
        }
    }
}

function kubeconfig(url: string, pki: Pki): string {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    return YAML.stringify({
        apiVersion: "v1", kind: "Config", "current-context": "real-test",
        clusters: [{ name: "real-test", cluster: { server: url, "certificate-authority-data": b64(pki.caPem) } }],
        users: [{ name: "admin", user: { "client-certificate-data": b64(pki.clientCertPem), "client-key-data": b64(pki.clientKeyPem) } }],
        contexts: [{ name: "real-test", context: { cluster: "real-test", user: "admin" } }],
    });
}

/**
 * Installs the routing CRDs the stacks use (scripts/lib/engine/crds: Gateway API v1.6.3 standard channel, Envoy Gateway
 * v1.9.1's policies), as the platform has them, and waits until the API server serves them (Established).
 */
export async function installRoutingCrds(cp: ControlPlane): Promise<void> {
    const file = path.join(cp.dir, "routing-crds.yaml");
    fs.writeFileSync(file, vendoredCrds().map((c) => `---\n${YAML.stringify(c, { lineWidth: 0 })}`).join(""));
    const applied = await kubectl(cp, ["apply", "--server-side", "--field-manager=platform", "-f", file]);
    if (applied.code !== 0) throw new Error(`installing the routing CRDs failed:\n${applied.stderr}`);
    const established = await kubectl(cp, ["wait", "--for=condition=Established", "--timeout=60s", "-f", file]);
    if (established.code !== 0) throw new Error(`the routing CRDs are not served:\n${established.stderr}`);
}

/** Starts etcd and kube-apiserver, waits until the API server is ready (/readyz) and installs the routing CRDs. Call stop() in `after`. */
export async function startControlPlane(): Promise<ControlPlane> {
    const kubectl = realBinary("kubectl");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-apiserver-"));
    // Test data need not survive a reboot: etcd's data on tmpfs when there is one (fsync makes etcd slow on disk).
    const dataRoot = fs.existsSync("/dev/shm") ? fs.mkdtempSync("/dev/shm/dcm-etcd-") : dir;
    const children: ChildProcess[] = [];
    let stopped = false;
    const stop = async () => {
        if (stopped) return;
        stopped = true;
        // API server first: it would log etcd connection errors while shutting down otherwise.
        for (const child of [...children].reverse()) await stopProcess(child);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(dataRoot, { recursive: true, force: true });
    };
    try {
        const pki = await makePki();
        const etcd = await startEtcd(dir, dataRoot);
        children.push(etcd.started.child);
        const api = await startApiServer(dir, etcd.clientUrl, pki);
        children.push(api.started.child);
        const kubeconfigFile = path.join(dir, "kubeconfig");
        fs.writeFileSync(kubeconfigFile, kubeconfig(api.url, pki), { mode: 0o600 });
        const cp: ControlPlane = {
            url: api.url, kubeconfig: kubeconfigFile, caPem: pki.caPem, clientCertPem: pki.clientCertPem, clientKeyPem: pki.clientKeyPem,
            kubectl, dir, stop,
        };
        await installRoutingCrds(cp);
        return cp;
    } catch (e) {
        await stop();
        throw e;
    }
}

export interface KubectlResult { code: number; stdout: string; stderr: string }

/** Runs the real kubectl against the control plane; stdin optional. */
export function kubectl(cp: ControlPlane, args: string[], stdin?: string): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cp.kubectl, [`--kubeconfig=${cp.kubeconfig}`, ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, KUBECONFIG: cp.kubeconfig } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => { stdout += d; });
        child.stderr.on("data", (d) => { stderr += d; });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
        child.stdin.end(stdin ?? "");
    });
}

export interface GarbageCollector {
    /** Stops polling (waits for the round in progress). */
    stop(): Promise<void>;
}

/**
 * The one part of kube-controller-manager's garbage collector a deletion needs here: an object deleted with
 * propagationPolicy Foreground (the Kubernetes provider's default) carries the finalizer `foregroundDeletion`
 * until the collector has removed its dependents, and without a controller manager it would stay forever (and
 * `pulumi destroy` wait for it). Each round drops that finalizer from every object being deleted that no
 * object names as its owner, as the collector does once the dependents are gone.
 */
export function startGarbageCollector(cp: ControlPlane, intervalMs = 500): GarbageCollector {
    let stopped = false;
    const loop = (async () => {
        const kinds = await kubectl(cp, ["api-resources", "--verbs=list,patch", "-o", "name"]);
        const list = kinds.stdout.trim().split("\n").join(",");
        while (!stopped) {
            const got = await kubectl(cp, ["get", list, "-A", "-o", "json"]);
            if (got.code === 0) {
                type Item = { kind: string; apiVersion: string; metadata: { name: string; namespace?: string; uid: string; deletionTimestamp?: string; finalizers?: string[]; ownerReferences?: { uid: string }[] } };
                const items = (JSON.parse(got.stdout) as { items: Item[] }).items;
                const owners = new Set(items.flatMap((i) => (i.metadata.ownerReferences ?? []).map((o) => o.uid)));
                for (const i of items) {
                    const f = i.metadata.finalizers ?? [];
                    if (!i.metadata.deletionTimestamp || !f.includes("foregroundDeletion") || owners.has(i.metadata.uid)) continue;
                    const resource = `${i.kind.toLowerCase()}.${i.apiVersion.includes("/") ? i.apiVersion.split("/")[0] : ""}`.replace(/\.$/, "");
                    await kubectl(cp, ["patch", resource, i.metadata.name, ...(i.metadata.namespace ? ["-n", i.metadata.namespace] : []), "--type", "merge",
                        "-p", JSON.stringify({ metadata: { finalizers: f.filter((x) => x !== "foregroundDeletion") } })]);
                }
            }
            await new Promise((r) => setTimeout(r, intervalMs));
        }
    })();
    return {
        async stop() {
            stopped = true;
            await loop;
        },
    };
}
