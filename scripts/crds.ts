/**
 * `npm run crds`: writes scripts/lib/engine/crds/*.json, the CustomResourceDefinitions of the routing objects the stack
 * creates, from the upstream Go modules (the Go module proxy serves them): the Gateway API's standard channel,
 * Envoy Gateway's policies and Traefik's CRDs. Descriptions are dropped (they are most of the bytes and change no admission rule);
 * every schema, CEL rule and version is kept. The unit tests validate rendered objects against them
 * (scripts/lib/engine/kubernetes-schema.ts) and test:real installs them into the real API server.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { TRAEFIK_VERSION } from "../domain/routing";
import { parseCommand, processIo, runCli } from "./lib/cli";


/** The Gateway API release the routes are written for (standard channel). */
export const GATEWAY_API_VERSION = "v1.6.3";
/** The Envoy Gateway release whose policies (rate limit, client address) the stack may create. */
export const ENVOY_GATEWAY_VERSION = "v1.9.1";

const SOURCES: { module: string; version: string; files: string[] }[] = [
    {
        module: "sigs.k8s.io/gateway-api", version: GATEWAY_API_VERSION,
        // gatewayclasses, grpcroutes and tlsroutes: the stack creates none, but a data plane watches them (Traefik's
        // provider waits for their informers), so test:real installs them for test/real/gateway-data-plane.test.ts.
        files: ["httproutes", "listenersets", "referencegrants", "backendtlspolicies", "gateways", "gatewayclasses", "grpcroutes", "tlsroutes"]
            .map((n) => `config/crd/standard/gateway.networking.k8s.io_${n}.yaml`),
    },
    {
        module: "github.com/envoyproxy/gateway", version: ENVOY_GATEWAY_VERSION,
        files: ["backendtrafficpolicies", "clienttrafficpolicies"].map((n) => `charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_${n}.yaml`),
    },
    {
        // Every CRD of Traefik's: the stack creates only Middlewares, but Traefik's kubernetesCRD provider (which
        // resolves a route's ExtensionRef to a Middleware) waits for the informers of all of them.
        module: "github.com/traefik/traefik/v3", version: TRAEFIK_VERSION,
        files: ["docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"],
    },
];

const USAGE = `Usage: npm run crds

Writes scripts/lib/engine/crds/<plural>.<group>.json: the CustomResourceDefinitions of the routing objects the stack
creates, from the Go module proxy (go mod download): Gateway API ${GATEWAY_API_VERSION} standard channel
(HTTPRoute, ListenerSet, ReferenceGrant, BackendTLSPolicy, Gateway; GatewayClass, GRPCRoute and TLSRoute, which a
data plane watches) Envoy Gateway ${ENVOY_GATEWAY_VERSION}
(BackendTrafficPolicy, ClientTrafficPolicy) and Traefik ${TRAEFIK_VERSION} (Middleware and the others its
kubernetesCRD provider watches), descriptions dropped. Run it after changing any of these versions.
Guide: docs/devops.md#routing-crds

Exit codes: 0 written; 1 a module could not be downloaded; 2 bad usage.`;

function withoutDescriptions(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(withoutDescriptions);
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === "description" && typeof x === "string")).map(([k, x]) => [k, withoutDescriptions(x)]));
    }
    return v;
}

export async function main(argv: string[]): Promise<number> {
    const args = parseCommand(argv, {}, USAGE, processIo, false);
    if (typeof args === "number") return args;
    const out = path.resolve(__dirname, "lib", "engine", "crds");
    fs.mkdirSync(out, { recursive: true });
    for (const source of SOURCES) {
        const result = spawnSync("go", ["mod", "download", "-json", `${source.module}@${source.version}`], { encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" } });
        const info = JSON.parse(result.stdout || "{}") as { Dir?: string; Sum?: string; Error?: string };
        if (result.status !== 0 || !info.Dir) {
            process.stderr.write(`go mod download ${source.module}@${source.version} failed: ${info.Error ?? result.stderr}\n`);
            return 1;
        }
        // A file holds one CRD, or several as a YAML stream (Traefik's).
        const crds = source.files.flatMap((file) => YAML.parseAllDocuments(fs.readFileSync(path.join(info.Dir!, file), "utf8"))
            .map((d) => ({ file, crd: d.toJS() as { kind?: string; metadata: { name: string; annotations?: Record<string, string> } } }))
            .filter(({ crd }) => crd?.kind === "CustomResourceDefinition"));
        for (const { file, crd } of crds) {
            crd.metadata.annotations = { ...crd.metadata.annotations, "dcm/source": `${source.module}@${source.version} ${file} (${info.Sum}), descriptions dropped` };
            const target = path.join(out, `${crd.metadata.name}.json`);
            fs.writeFileSync(target, `${JSON.stringify(withoutDescriptions(crd))}\n`);
            process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
        }
    }
    return 0;
}

if (require.main === module) runCli(main);
