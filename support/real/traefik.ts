/**
 * Real Traefik (built by `npm run real:setup`) as the Gateway API data plane: its Kubernetes Gateway provider
 * watches the test's API server (admin kubeconfig) and serves the bank's listeners. Traefik maps a Gateway
 * listener to the entryPoint listening on the listener's port, so the entryPoints are 127.0.0.1:443 (TLS from
 * the listeners' certificates) and 127.0.0.1:80, as the rendered listeners say. Its kubernetesCRD provider runs
 * beside it, as edgeRateLimit traefik requires: it resolves a route's ExtensionRef filter to the bank's Middleware.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { realBinary } from "../../real/components";
import { start, waitUntil } from "./process";

/** Traefik's Gateway API controller name (a GatewayClass naming it is Traefik's). */
export const TRAEFIK_CONTROLLER = "traefik.io/gateway-controller";
/** The ports the rendered listeners use: Traefik needs entryPoints on exactly these. */
export const LISTENER_PORTS = { https: 443, http: 80 } as const;

export interface RunningTraefik {
    /** Traefik's log so far (JSON lines at DEBUG). */
    output(): string;
    stop(): Promise<void>;
}

const portTaken = (port: number) => new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(true));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
});

/** Which of the listener ports something else holds on 127.0.0.1 (the test cannot run then). */
export async function takenListenerPorts(): Promise<number[]> {
    const taken: number[] = [];
    for (const port of Object.values(LISTENER_PORTS)) if (await portTaken(port)) taken.push(port);
    return taken;
}

/** What the platform's Traefik is told about the proxies in front of it. */
export interface TraefikOptions {
    /** The entryPoints' forwardedHeaders.trustedIPs: X-Forwarded-For is kept only from these peers (none: from nobody). */
    trustedIPs?: string[];
}

/** Starts Traefik with the Kubernetes Gateway and CRD providers against the API server of `kubeconfig`. */
export async function startTraefik(kubeconfig: string, options: TraefikOptions = {}): Promise<RunningTraefik> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-traefik-"));
    const pingPort = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = s.address() as net.AddressInfo;
            s.close(() => resolve(port));
        });
    });
    const forwardedHeaders = options.trustedIPs?.length ? { forwardedHeaders: { trustedIPs: options.trustedIPs } } : {};
    const config = {
        entryPoints: {
            web: { address: `127.0.0.1:${LISTENER_PORTS.http}`, ...forwardedHeaders },
            websecure: { address: `127.0.0.1:${LISTENER_PORTS.https}`, http: { tls: {} }, ...forwardedHeaders },
            ping: { address: `127.0.0.1:${pingPort}` },
        },
        ping: { entryPoint: "ping" },
        // The provider's updates are applied at once (no 2 s throttle), so the test waits less.
        providers: { kubernetesGateway: { throttleDuration: "0s" }, kubernetesCRD: { throttleDuration: "0s" } },
        log: { level: "DEBUG", format: "json" },
        global: { checkNewVersion: false, sendAnonymousUsage: false },
    };
    const file = path.join(dir, "traefik.yml");
    fs.writeFileSync(file, YAML.stringify(config));
    // KUBECONFIG: the provider's out-of-cluster client reads it (the admin's client certificate).
    const proc = start(realBinary("traefik"), [`--configFile=${file}`], { env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: kubeconfig } });
    const stop = async () => {
        await proc.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        await waitUntil("Traefik", () => fetch(`http://127.0.0.1:${pingPort}/ping`).then((r) => r.ok), proc, 30_000);
    } catch (e) {
        await stop();
        throw e;
    }
    return { output: () => proc.output(), stop };
}
