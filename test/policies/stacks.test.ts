/**
 * The program keeps its own pack: every bank stack in stacks/, rendered by the real program under the
 * offline runtime, passes every mandatory policy (and the CLI's analyzer agrees); bad variants are caught,
 * both a changed copy of the program and changed records of a real render.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { evaluateStack, PolicyResource, stackPolicyConfig } from "../../policies/evaluate";
import { fromRecorded } from "../../scripts/lib/engine/policy-resources";
import { OfflineOutcome, runOffline } from "../../scripts/lib/engine/offline-run";
import { listStacks, readProject } from "../../scripts/lib/engine/stack-config";
import { analyzeWithEngine, canonical } from "./engine";
import { PROJECT_ROOT } from "../../domain/project";

const CANARY = "PolicyCanary9d2e";
const project = readProject(PROJECT_ROOT);
const stacks = listStacks(project);
const renders = new Map<string, OfflineOutcome>();
/** The demo stack in the legacy routing mode (routing ingress-nginx); the stack files use the default gateway-api. */
const LEGACY = "demo (routing ingress-nginx)";
/** The demo stack with a Gateway of the bank's own instead of a ListenerSet (gatewayListeners bank-gateway). */
const BANK_GATEWAY = "demo (gatewayListeners bank-gateway)";
let badProgram: OfflineOutcome;
let badDir: string;

/**
 * A copy of the program with two mistakes appended to infra/index.ts: the signing private key in a ConfigMap
 * and an Ingress without TLS. Inside the repository (out/ is ignored) so it resolves the same node_modules.
 */
function writeBadProgram(): string {
    fs.mkdirSync(path.join(PROJECT_ROOT, "out"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(PROJECT_ROOT, "out", "policy-bad-program-"));
    for (const part of ["domain", "infra", "components"]) fs.cpSync(path.join(PROJECT_ROOT, part), path.join(dir, part), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
    const index = path.join(dir, "infra", "index.ts");
    const program = fs.readFileSync(index, "utf8");
    for (const name of ["namespace", "activeKey", "hosts"]) {
        assert.match(program, new RegExp(`\\b(const|let) (\\{[^}]*\\b${name}\\b[^}]*\\}|${name})\\s*=`), `infra/index.ts no longer defines ${name}: update this test's bad variant`);
    }
    fs.writeFileSync(index, `${program}
import * as badK8s from "@pulumi/kubernetes";
new badK8s.core.v1.ConfigMap("leaky-config", { metadata: { name: "leaky", namespace: namespace.name }, data: { "signer.pem": activeKey.privateKeyPem } });
new badK8s.networking.v1.Ingress("plain-http", {
    metadata: { name: "plain-http", namespace: namespace.name },
    spec: { rules: [{ host: hosts.api, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "jwks", port: { number: 80 } } } }] } }] },
});
`);
    return path.join(dir, "infra");
}

const violationsOf = (outcome: OfflineOutcome, resources?: PolicyResource[]) => {
    assert.ok(outcome.ok, outcome.ok ? "" : `render failed: ${outcome.error}\n${outcome.stderr}`);
    return evaluateStack(resources ?? outcome.resources.map(fromRecorded), { stack: outcome.stack, config: stackPolicyConfig(outcome.project, outcome.stackConfig.config) });
};

before(async () => {
    badDir = writeBadProgram();
    // Every render in parallel: each is its own worker process. Transpile only: `npm test` type checks first.
    const [bad, legacy, bankGateway, ...all] = await Promise.all([
        runOffline({ stack: "demo", programDir: badDir, secretCanary: CANARY, typecheck: false }),
        runOffline({ stack: "demo", overrides: { routing: "ingress-nginx" }, secretCanary: CANARY, typecheck: false }),
        runOffline({ stack: "demo", overrides: { gatewayListeners: "bank-gateway", gatewayClassName: "traefik" }, secretCanary: CANARY, typecheck: false }),
        ...stacks.map((stack) => runOffline({ stack, secretCanary: CANARY, typecheck: false })),
    ]);
    badProgram = bad;
    stacks.forEach((s, i) => renders.set(s, all[i]));
    renders.set(LEGACY, legacy);
    renders.set(BANK_GATEWAY, bankGateway);
});

after(() => {
    if (badDir) fs.rmSync(path.dirname(badDir), { recursive: true, force: true });
});

describe("every bank stack passes every mandatory policy", () => {
    // A guard on the test's input, not a test of the code: with no stack file the loop below would check nothing.
    it("test data: there are stacks to check", () => assert.ok(stacks.length >= 2, `stacks: ${stacks.join(", ")}`));
    for (const stack of [...stacks, LEGACY, BANK_GATEWAY]) {
        it(stack, (t) => {
            const violations = violationsOf(renders.get(stack)!);
            const mandatory = violations.filter((v) => v.severity === "mandatory");
            assert.deepEqual(mandatory.map((v) => `${v.policy} ${v.urn}: ${v.message}`), []);
            for (const v of violations) t.diagnostic(`advisory ${v.policy} ${v.urn}: ${v.message}`);
            for (const v of violations) assert.ok(!v.message.includes(CANARY), "a message leaks a password");
        });
    }

    it("the CLI's analyzer sees the same on the demo render", async () => {
        const outcome = renders.get("demo")!;
        assert.ok(outcome.ok);
        // The CLI has no secret markers: the same resources without them, through @pulumi/policy's handlers.
        const resources = outcome.resources.map(fromRecorded);
        const cli = resources.map(({ markedProps: _m, ...r }) => r);
        const engine = await analyzeWithEngine(resources);
        assert.deepEqual(canonical(evaluateStack(cli, { stack: "demo" })), canonical(engine));
    });
});

describe("a bad variant of the program is caught", () => {
    it("a copy with the private key in a ConfigMap and an Ingress without TLS", () => {
        const violations = violationsOf(badProgram);
        const leaky = violations.filter((v) => v.policy === "secrets-configmaps");
        assert.equal(leaky.length, 1, JSON.stringify(violations, null, 1));
        assert.match(leaky[0].urn!, /ConfigMap::leaky-config$/);
        assert.equal(leaky[0].message, 'data["signer.pem"] holds a PEM private key: move it to a Secret.');
        const tls = violations.filter((v) => v.policy === "ingress-tls");
        assert.deepEqual(tls.map((v) => v.message), ['Host "api-demo-integrate.dcm.example.com" (spec.rules[0]) is not covered by TLS: add it to spec.tls[].hosts.']);
        assert.match(tls[0].urn!, /Ingress::plain-http$/);
        assert.ok(violations.every((v) => v.severity === "advisory" || ["secrets-configmaps", "ingress-tls"].includes(v.policy)), JSON.stringify(violations, null, 1));
        assert.ok(violations.every((v) => !v.message.includes("PRIVATE KEY-----\n") && !v.message.includes(CANARY)));
    });

    /** The demo render's records with one change: the violations (mandatory ones unless told). */
    const mutated = (change: (rs: PolicyResource[]) => void, severity = "mandatory", stack = "demo") => {
        const outcome = renders.get(stack)!;
        assert.ok(outcome.ok);
        const rs = structuredClone(outcome.resources.map(fromRecorded));
        change(rs);
        return violationsOf(outcome, rs).filter((v) => v.severity === severity);
    };
    const ofType = (rs: PolicyResource[], type: string) => rs.filter((r) => r.type === type);

    it("every real HTTPS listener stripped of its certificate, and HSTS dropped from one route", () => {
        const vs = mutated((rs) => {
            for (const r of ofType(rs, "kubernetes:gateway.networking.k8s.io/v1:ListenerSet")) for (const l of (r.props.spec as any).listeners) delete l.tls;
            const api = ofType(rs, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute").find((r) => (r.props.metadata as any).name === "api")!;
            for (const rule of (api.props.spec as any).rules) rule.filters = rule.filters.filter((f: any) => f.type !== "ResponseHeaderModifier");
        });
        assert.deepEqual([...new Set(vs.map((v) => v.policy))], ["gateway-tls"]);
        assert.deepEqual(vs.map((v) => v.message).filter((m) => /has no certificate/.test(m)).length, 2, "both hosts' HTTPS listeners");
        assert.deepEqual(vs.map((v) => v.message).filter((m) => /HTTPRoute "api" sets no Strict-Transport-Security/.test(m)).length, 2, "both rules of the api route");
    });

    it("the bank's own Gateway (bank-gateway): its HTTPS listeners stripped of their certificates, a route attached to the whole Gateway", () => {
        const vs = mutated((rs) => {
            const gateways = ofType(rs, "kubernetes:gateway.networking.k8s.io/v1:Gateway");
            assert.equal(gateways.length, 1, "the render has the bank's Gateway");
            for (const l of (gateways[0].props.spec as any).listeners) delete l.tls;
            const api = ofType(rs, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute").find((r) => (r.props.metadata as any).name === "api")!;
            delete (api.props.spec as any).parentRefs[0].sectionName;
        }, "mandatory", BANK_GATEWAY);
        assert.deepEqual([...new Set(vs.map((v) => v.policy))], ["gateway-tls"]);
        assert.equal(vs.filter((v) => /has no certificate/.test(v.message)).length, 2, "both hosts' HTTPS listeners");
        assert.equal(vs.filter((v) => /names no sectionName: the route would attach to every listener of Gateway "bank-hosts"/.test(v.message)).length, 1);
    });

    it("every real Ingress stripped of TLS (routing ingress-nginx)", () => {
        const vs = mutated((rs) => { for (const r of ofType(rs, "kubernetes:networking.k8s.io/v1:Ingress")) delete (r.props.spec as any).tls; }, "mandatory", LEGACY);
        const ingresses = ofType(renders.get(LEGACY)!.ok ? (renders.get(LEGACY) as any).resources : [], "kubernetes:networking.k8s.io/v1:Ingress");
        assert.ok(ingresses.length > 0, "the program has Ingresses");
        assert.deepEqual([...new Set(vs.map((v) => v.policy))], ["ingress-tls"]);
        assert.equal(new Set(vs.map((v) => v.urn)).size, ingresses.length);
    });

    it("the signing key published in the JWKS ConfigMap", () => {
        const vs = mutated((rs) => {
            const signer = rs.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.props.metadata as any).name.startsWith("jwt-signing-key"))!;
            const jwks = rs.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && (r.props.metadata as any).name === "jwks")!;
            (jwks.props.data as any)["private-key.pem"] = (signer.props.stringData as any)["private-key.pem"];
        });
        assert.deepEqual(vs.map((v) => `${v.policy}: ${v.message}`), ['secrets-configmaps: data["private-key.pem"] holds a PEM private key: move it to a Secret.']);
    });

    it("the key-keeper passwords exported in the clear", () => {
        const vs = mutated((rs) => {
            const stack = rs.find((r) => r.type === "pulumi:pulumi:Stack")!;
            stack.markedProps!.keyKeeperPasswords = stack.props.keyKeeperPasswords;
        });
        assert.deepEqual(vs.map((v) => v.policy), ["outputs-secrets", "outputs-secrets"]);
        assert.ok(vs.every((v) => /^Stack output keyKeeperPasswords\.(identification|processing) holds/.test(v.message) && !v.message.includes(CANARY)));
    });

    it("the Kratos public Service forwarding to the admin container port, in both routing modes", () => {
        for (const [stack, policy] of [["demo", "gateway-no-kratos-admin"], [LEGACY, "ingress-no-kratos-admin-service"]]) {
            const vs = mutated((rs) => {
                const service = rs.find((r) => r.type === "kubernetes:core/v1:Service" && (r.props.metadata as any).name === "kratos-public")!;
                (service.props.spec as any).ports[0].targetPort = "http-admin";
            }, "mandatory", stack);
            assert.ok(vs.length > 0);
            assert.deepEqual([...new Set(vs.map((v) => v.policy))], [policy]);
            assert.match(vs[0].message, /reaches Service "kratos-public" port \d+ -> http-admin: the Kratos admin API must not be exposed/);
        }
    });

    it("a catch-all to DCM's API, in both routing modes", () => {
        const gateway = mutated((rs) => {
            const api = rs.find((r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute" && (r.props.metadata as any).name === "api")!;
            (api.props.spec as any).rules[1].matches.push({ path: { type: "PathPrefix", value: "/" } });
        });
        assert.deepEqual(gateway.map((v) => v.policy), ["dcm-api-upstream"]);
        const legacy = mutated((rs) => {
            const dcm = rs.find((r) => r.type === "kubernetes:networking.k8s.io/v1:Ingress" && (r.props.metadata as any).name === "api-dcm")!;
            (dcm.props.spec as any).rules[0].http.paths.push({ path: "/", pathType: "Prefix", backend: { service: { name: "dcm-api", port: { number: 8443 } } } });
            delete (dcm.props.metadata as any).annotations["nginx.ingress.kubernetes.io/proxy-ssl-verify"];
        }, "mandatory", LEGACY);
        assert.deepEqual(legacy.map((v) => v.message), [
            'Ingress "api-dcm" sends path "/" (Prefix) to DCM\'s API: only the allow-list (dcmApiPaths, Prefix paths), never a catch-all.',
            'Ingress "api-dcm" reaches DCM\'s API without proxy-ssl-verify: "on": HTTPS with its certificate verified.',
        ]);
    });

    it("the advisories recognise the real frontend and Kratos (dnipro: Kratos scaled)", () => {
        const deployment = (rs: PolicyResource[], name: string) => rs.find((r) => r.type === "kubernetes:apps/v1:Deployment" && (r.props.metadata as any).name === name)!;
        // dnipro keeps Pulumi.yaml's all-zero frontend digest: its advisory is there before any change.
        const baseline = new Set(mutated(() => undefined, "advisory", "dnipro").map((v) => v.policy));
        assert.deepEqual([...baseline], ["containers-real-digests"]);
        const added = (vs: { policy: string }[]) => vs.map((v) => v.policy).filter((p) => !baseline.has(p)).sort();
        const single = mutated((rs) => { (deployment(rs, "frontend").props.spec as any).replicas = 1; }, "advisory", "dnipro");
        assert.deepEqual(added(single), ["availability-frontend-replicas"]);
        const noPdbs = mutated((rs) => { rs.splice(0, rs.length, ...rs.filter((r) => r.type !== "kubernetes:policy/v1:PodDisruptionBudget")); }, "advisory", "dnipro");
        assert.deepEqual(added(noPdbs), ["availability-frontend-pdb", "availability-kratos-pdb"]);
    });

    it("the signing key unprotected", () => {
        const vs = mutated((rs) => { for (const r of ofType(rs, "tls:index/privateKey:PrivateKey")) r.protect = false; });
        assert.deepEqual([...new Set(vs.map((v) => v.policy))].sort(), ["keys-protected", "keys-protected-sources"]);
    });
});
