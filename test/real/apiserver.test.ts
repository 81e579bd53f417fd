/**
 * Every stack, rendered offline, applied for real (server-side apply) to a real kube-apiserver: admitted, and
 * without a Pod Security warning. Broken objects the OpenAPI schema lets through are refused with the API
 * server's own message, which shows the harness is no rubber stamp.
 *
 * Needs `npm run real:setup` (kube-apiserver, etcd, kubectl). No controller manager, scheduler or kubelet:
 * admission is all the API server's, and no Pod ever runs.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import { KubernetesObject, plainObjects } from "../../scripts/lib/engine/manifests";
import { schemaProblems } from "../../scripts/lib/engine/kubernetes-schema";
import { apiServerProblems } from "../../policies/objects-api-server-rules";
import { missingComponents } from "../../real/components";
import { evaluateStack } from "../../policies/evaluate";
import { render } from "../../support/render";
import { CONTROL_PLANE_COMPONENTS, ControlPlane, kubectl, startControlPlane } from "../../support/real/apiserver";
import { PROJECT_ROOT } from "../../domain/project";

const missing = missingComponents(CONTROL_PLANE_COMPONENTS);
const skip = missing.length > 0 ? `${missing.join(", ")} not built: run \`npm run real:setup\`` : false;

const STACKS = fs.readdirSync(path.join(PROJECT_ROOT, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => Boolean(s)).sort();

interface Case { name: string; stack: string; overrides?: Record<string, unknown> }
const CASES: Case[] = [
    ...STACKS.map((stack) => ({ name: `stack ${stack}`, stack })),
    { name: "demo, tlsMode self-signed", stack: "demo", overrides: { tlsMode: "self-signed" } },
    { name: "demo, tlsMode provided", stack: "demo", overrides: { tlsMode: "provided", tlsSecretName: "bank-tls" } },
    { name: "demo, Envoy Gateway rate limit behind trusted proxies", stack: "demo", overrides: { edgeRateLimit: "envoy-gateway", trustedProxyCidrs: ["10.20.0.0/16", "2001:db8::/32"] } },
    { name: "demo, a Gateway of the bank's own (gatewayListeners bank-gateway)", stack: "demo", overrides: { gatewayListeners: "bank-gateway", gatewayClassName: "traefik" } },
    { name: "demo, Traefik rate limit behind trusted proxies", stack: "demo", overrides: { gatewayListeners: "bank-gateway", gatewayClassName: "traefik", edgeRateLimit: "traefik", trustedProxyCidrs: ["10.20.0.0/16", "2001:db8::/32"] } },
    { name: "demo, routing ingress-nginx", stack: "demo", overrides: { routing: "ingress-nginx" } },
];

/** A multi-document YAML stream of real values, in a 0600 file of the control plane's scratch directory. */
function writeManifests(cp: ControlPlane, name: string, objects: readonly unknown[]): string {
    const file = path.join(cp.dir, `${name.replace(/[^a-z0-9-]+/gi, "_")}.yaml`);
    // YAML 1.1's quoting, as kubectl reads it (an unquoted `on` would be a boolean).
    fs.writeFileSync(file, objects.map((o) => `---\n${YAML.stringify(o, { lineWidth: 0, version: "1.1" })}`).join(""), { mode: 0o600 });
    return file;
}

/** Namespaces the platform owns and a bank's stack only writes into (the signer's, for the signing key Secret). */
function foreignNamespaces(objects: readonly KubernetesObject[]): string[] {
    const created = new Set(objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
    return [...new Set(objects.map((o) => o.metadata.namespace).filter((n): n is string => Boolean(n) && !created.has(n!)))].sort();
}

/** The Pulumi type token of an object, as the policy pack sees it. */
const typeOf = (o: { apiVersion: string; kind: string }) => `kubernetes:${o.apiVersion.includes("/") ? o.apiVersion : `core/${o.apiVersion}`}:${o.kind}`;

const apply = (cp: ControlPlane, file: string) => kubectl(cp, ["apply", "--server-side", "--field-manager=dcm-real-test", "-f", file]);

describe("every stack admitted by a real kube-apiserver", { skip }, () => {
    for (const c of CASES) {
        describe(c.name, () => {
            let cp: ControlPlane;
            // A fresh control plane per case: a Job's template is immutable, so one stack's variant cannot be
            // applied over another's, and a namespace never finishes deleting without the controller manager.
            before(async () => { cp = await startControlPlane(); });
            after(async () => { await cp?.stop(); });

            it("applies every object server-side, with no warning (Pod Security admission among them)", async () => {
                const rendered = await render({ stack: c.stack, overrides: c.overrides });
                const objects = plainObjects(rendered.resources);
                assert.ok(objects.some((o) => o.kind === "Deployment"), "the render has workloads to admit");
                // The routing mode's own objects: the Gateway API's by default (the CRDs are installed), Ingresses in the legacy mode.
                const legacy = c.overrides?.routing === "ingress-nginx";
                assert.equal(objects.some((o) => o.kind === "HTTPRoute"), !legacy);
                assert.equal(objects.some((o) => o.kind === "Ingress"), legacy);
                // cert-manager's ingress-shim makes Certificates from the Ingress annotation: the stack itself creates
                // no cert-manager resource, so no CRD is installed. If that changes, install the CRDs from
                // github.com/cert-manager/cert-manager's deploy/crds before applying.
                assert.deepEqual(objects.filter((o) => o.apiVersion.startsWith("cert-manager.io/")).map((o) => o.kind), []);
                const platform = foreignNamespaces(objects);
                for (const ns of platform) {
                    const created = await kubectl(cp, ["create", "namespace", ns]);
                    assert.equal(created.code, 0, created.stderr);
                }
                const file = writeManifests(cp, c.name, objects);
                const result = await apply(cp, file);
                assert.equal(result.code, 0, `kubectl apply --server-side failed:\n${result.stderr}`);
                // kubectl prints every warning header the API server sends, Pod Security's "would violate" among them.
                assert.doesNotMatch(result.stderr, /Warning:/, `the API server warned:\n${result.stderr}`);
                const applied = result.stdout.trim().split("\n").filter((l) => / serverside-applied$/.test(l));
                assert.equal(applied.length, objects.length, `applied:\n${result.stdout}`);
                // The offline rule agrees with the API server on what it admitted.
                assert.deepEqual(objects.flatMap((o) => apiServerProblems(typeOf(o), o)), []);

                // What the API server stored: each object is there, its namespaces carry the restricted enforcement.
                const stored = await kubectl(cp, ["get", "-f", file, "-o", "name"]);
                assert.equal(stored.code, 0, stored.stderr);
                assert.equal(stored.stdout.trim().split("\n").length, objects.length, stored.stdout);
                for (const ns of objects.filter((o) => o.kind === "Namespace")) {
                    const got = await kubectl(cp, ["get", "namespace", ns.metadata.name, "-o", "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}"]);
                    assert.equal(got.stdout, "restricted", `namespace ${ns.metadata.name}`);
                }
            });
        });
    }
});

/** Objects the OpenAPI schema accepts and the API server refuses, one rule each, in a restricted namespace. */
const NS = "broken-objects";
const container = (extra: Record<string, unknown> = {}) => ({
    name: "app", image: "registry.example/app:1@sha256:" + "a".repeat(64),
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    ...extra,
});
const deployment = (name: string, c: Record<string, unknown>) => ({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: NS },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [c] } } },
});
const ingress = (name: string, pathValue: string, pathType: string) => ({
    apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name, namespace: NS },
    spec: { rules: [{ host: "bank.example.com", http: { paths: [{ path: pathValue, pathType, backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
});

interface Broken { name: string; object: Record<string, unknown>; message: RegExp }
const BROKEN: Broken[] = [
    {
        name: "a container port name of 16 characters",
        object: deployment("port-name", container({ ports: [{ name: "sixteen-chars-ab", containerPort: 8080 }] })),
        message: /spec\.template\.spec\.containers\[0\]\.ports\[0\]\.name: Invalid value: "sixteen-chars-ab": must be no more than 15 characters/,
    },
    {
        name: "an upper-case label value with a space",
        object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "label-value", namespace: NS, labels: { bank: "Demo Bank" } } },
        message: /metadata\.labels: Invalid value: "Demo Bank": a valid label must be an empty string or consist of alphanumeric characters/,
    },
    {
        name: "an Ingress Exact path that is a regex without the leading slash",
        object: ingress("exact-regex", ".ory(/|$)(.*)", "Exact"),
        message: /spec\.rules\[0\]\.http\.paths\[0\]\.path: Invalid value: "\.ory\(\/\|\$\)\(\.\*\)": must be an absolute path/,
    },
    {
        name: "a NetworkPolicy port out of range",
        object: {
            apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "port-range", namespace: NS },
            spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ ports: [{ protocol: "TCP", port: 70000 }] }] },
        },
        message: /spec\.ingress\[0\]\.ports\[0\]\.port: Invalid value: 70000: must be between 1 and 65535, inclusive/,
    },
];

describe("broken objects are refused by the real API server, with its message", { skip }, () => {
    let cp: ControlPlane;
    before(async () => {
        cp = await startControlPlane();
        const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: { "pod-security.kubernetes.io/enforce": "restricted" } } };
        const created = await apply(cp, writeManifests(cp, "namespace", [ns]));
        assert.equal(created.code, 0, created.stderr);
    });
    after(async () => { await cp?.stop(); });

    for (const b of BROKEN) {
        it(`refuses ${b.name}, which the OpenAPI schema accepts`, async () => {
            assert.deepEqual(await schemaProblems(b.object as unknown as KubernetesObject), [], "the offline schema check lets it through");
            const result = await apply(cp, writeManifests(cp, b.name, [b.object]));
            assert.notEqual(result.code, 0, `admitted:\n${result.stdout}`);
            assert.match(result.stderr, b.message);
            // The policy pack's objects-api-server-rules finds it offline, before any API server sees it.
            assert.notDeepEqual(apiServerProblems(typeOf(b.object as { apiVersion: string; kind: string }), b.object), [], "the policy pack misses it");
        });
    }

    it("admits a well-formed object of each kind (the refusals above are the rule's, not the harness')", async () => {
        const good: Record<string, unknown>[] = [
            deployment("port-name", container({ ports: [{ name: "fifteen-chars-a", containerPort: 8080 }] })),
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "label-value", namespace: NS, labels: { bank: "demo-bank" } } },
            ingress("exact-path", "/.well-known/jwks.json", "Exact"),
        ];
        const result = await apply(cp, writeManifests(cp, "good", good));
        assert.equal(result.code, 0, result.stderr);
        assert.doesNotMatch(result.stderr, /Warning:/);
        for (const o of good) assert.deepEqual(apiServerProblems(typeOf(o as { apiVersion: string; kind: string }), o), [], "the policy pack refuses what the API server admits");
    });

    it("warns (Pod Security, enforce restricted) on a Deployment whose Pods would be refused", async () => {
        const root = deployment("runs-as-root", { name: "app", image: "registry.example/app:1@sha256:" + "a".repeat(64) });
        const result = await apply(cp, writeManifests(cp, "root", [root]));
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
    });

    it("admits an Ingress Exact path written as a regex: the API server does not check it (ingress-nginx's admission does)", async () => {
        const object = ingress("exact-regex-absolute", "/.ory(/|$)(.*)", "Exact");
        const result = await apply(cp, writeManifests(cp, "exact-regex-absolute", [object]));
        assert.equal(result.code, 0, result.stderr);
        // So the policy pack carries ingress-nginx's rule: a regex belongs in an ImplementationSpecific path.
        assert.match(apiServerProblems(typeOf(object), object).join("\n"), /with pathType Exact may hold only letters, digits/);
    });
});

/**
 * Broken Gateway API routes against the real API server with the v1.6.3 standard CRDs: what the CRD's CEL rules
 * refuse is refused with their message; what only an implementation can judge (a backendRef into another namespace
 * with no ReferenceGrant: ResolvedRefs False, RefNotPermitted, per the spec) is admitted, and the policy pack
 * reports it before any Gateway would.
 */
describe("broken Gateway API routes, as the real API server and the spec treat them", { skip }, () => {
    let cp: ControlPlane;
    let objects: KubernetesObject[];
    before(async () => {
        cp = await startControlPlane();
        objects = plainObjects((await render({ stack: "demo" })).resources);
        for (const ns of ["bank-demo-integrate", "dcm-platform"]) assert.equal((await kubectl(cp, ["create", "namespace", ns])).code, 0);
    });
    after(async () => { await cp?.stop(); });
    const routeNamed = (name: string) => structuredClone(objects.find((o) => o.kind === "HTTPRoute" && o.metadata.name === name)!) as any;

    it("refuses two path matches under one ReplacePrefixMatch, with the CRD's CEL message", async () => {
        const route = routeNamed("backoffice-kratos");
        route.metadata.name = "two-prefixes";
        route.spec.rules[0].matches.push({ path: { type: "PathPrefix", value: "/.kratos" } });
        assert.deepEqual(await schemaProblems(route), [], "the offline schema check (no CEL) lets it through");
        const result = await apply(cp, writeManifests(cp, "two-prefixes", [route]));
        assert.notEqual(result.code, 0, `admitted:\n${result.stdout}`);
        assert.match(result.stderr, /When using URLRewrite filter with path\.replacePrefixMatch, exactly one PathPrefix match must be specified/);
        // The program's own route, one match under the filter, is admitted: the refusal is the rule's.
        const own = await apply(cp, writeManifests(cp, "own-route", [routeNamed("backoffice-kratos")]));
        assert.equal(own.code, 0, own.stderr);
        assert.doesNotMatch(own.stderr, /Warning:/);
    });

    it("refuses a RequestRedirect next to backendRefs (the admin-hidden rule must forward nowhere)", async () => {
        const route = routeNamed("backoffice-kratos");
        route.metadata.name = "redirect-and-forward";
        route.spec.rules[1].backendRefs = [{ group: "", kind: "Service", name: "kratos-public", port: 80 }];
        const result = await apply(cp, writeManifests(cp, "redirect-and-forward", [route]));
        assert.notEqual(result.code, 0, `admitted:\n${result.stdout}`);
        assert.match(result.stderr, /RequestRedirect filter must not be used together with backendRefs/);
    });

    it("admits the platform Gateway docs/devops.md describes, admitting the bank's ListenerSet", async () => {
        const guide = fs.readFileSync(path.resolve(__dirname, "..", "..", "docs", "devops.md"), "utf8");
        const block = /```yaml\n(spec:\n {2}allowedListeners:[\s\S]*?)```/.exec(guide)?.[1];
        assert.ok(block, "docs/devops.md shows the Gateway's allowedListeners");
        const set = objects.find((o) => o.kind === "ListenerSet")! as any;
        const gateway = {
            apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway",
            metadata: { name: set.spec.parentRef.name, namespace: set.spec.parentRef.namespace },
            spec: { gatewayClassName: "platform", listeners: [{ name: "http", port: 80, protocol: "HTTP" }], ...YAML.parse(block).spec },
        };
        assert.equal((await kubectl(cp, ["create", "namespace", gateway.metadata.namespace])).code, 0);
        const result = await apply(cp, writeManifests(cp, "platform-gateway", [gateway, set]));
        assert.equal(result.code, 0, result.stderr);
        assert.doesNotMatch(result.stderr, /Warning:/);
        const selector = gateway.spec.allowedListeners.namespaces.selector.matchLabels as Record<string, string>;
        const bankNamespace = objects.find((o) => o.kind === "Namespace")!;
        for (const [k, v] of Object.entries(selector)) assert.equal(bankNamespace.metadata.labels?.[k], v, `the bank's namespace carries ${k}=${v}`);
    });

    it("admits a backendRef into DCM's namespace without a ReferenceGrant, which the spec leaves to the Gateway (RefNotPermitted) and the policy pack reports", async () => {
        const route = routeNamed("api");
        route.metadata.name = "no-grant";
        const result = await apply(cp, writeManifests(cp, "no-grant", [route]));
        assert.equal(result.code, 0, result.stderr);
        const grants = await kubectl(cp, ["get", "referencegrants.gateway.networking.k8s.io", "-n", "dcm-platform", "-o", "name"]);
        assert.equal(grants.stdout.trim(), "", "no ReferenceGrant exists");
        const withoutGrant = objects.filter((o) => o.kind !== "ReferenceGrant").map((o) => ({ urn: `urn:pulumi:demo::dcm-integration::${typeOf(o)}::${o.metadata.name}`, type: typeOf(o), name: o.metadata.name, props: o as any, protect: false }));
        const reported = evaluateStack(withoutGrant, { stack: "demo" }).filter((v) => v.policy === "dcm-api-upstream");
        assert.match(reported.map((v) => v.message).join("\n"), /crosses namespaces without a ReferenceGrant in dcm-platform from HTTPRoutes of bank-demo-integrate/);
    });
});

/**
 * The bank-scoped identities the stacks model, with two banks in one cluster: the first-employee Job's service
 * account reaches its own recovery Secret and nothing else; DCM's signer reads each bank's signing key by name only.
 */
describe("RBAC: a bank's identities cannot reach another bank's objects", { skip }, () => {
    let cp: ControlPlane;
    const sa = (ns: string, name: string) => `--as=system:serviceaccount:${ns}:${name}`;
    const bootstrap = sa("bank-demo-integrate", "first-employee-bootstrap");
    const signer = sa("dcm-platform", "dcm-signer");
    before(async () => {
        cp = await startControlPlane();
        const objects = [...plainObjects((await render({ stack: "demo" })).resources), ...plainObjects((await render({ stack: "dnipro" })).resources)];
        for (const ns of foreignNamespaces(objects)) assert.equal((await kubectl(cp, ["create", "namespace", ns])).code, 0);
        const result = await apply(cp, writeManifests(cp, "two-banks", objects));
        assert.equal(result.code, 0, result.stderr);
    });
    after(async () => { await cp?.stop(); });

    it("the bootstrap Job's account gets and patches its own recovery Secret", async () => {
        const got = await kubectl(cp, ["get", "secret", "first-employee-recovery", "-n", "bank-demo-integrate", "-o", "name", bootstrap]);
        assert.equal(got.code, 0, got.stderr);
        assert.equal(got.stdout.trim(), "secret/first-employee-recovery");
        const patched = await kubectl(cp, ["patch", "secret", "first-employee-recovery", "-n", "bank-demo-integrate", "--type=merge", "-p", '{"metadata":{"annotations":{"dcm/test":"patched"}}}', "-o", "name", bootstrap]);
        assert.equal(patched.code, 0, patched.stderr);
    });

    it("is refused the other bank's recovery Secret, other Secrets of its own namespace, and listing", async () => {
        const refusals: [string[], RegExp][] = [
            [["get", "secret", "first-employee-recovery", "-n", "bank-dnipro-integrate", "-o", "name"], /secrets "first-employee-recovery" is forbidden: User "system:serviceaccount:bank-demo-integrate:first-employee-bootstrap" cannot get resource "secrets" in API group "" in the namespace "bank-dnipro-integrate"/],
            [["get", "secret", "kratos", "-n", "bank-demo-integrate", "-o", "name"], /secrets "kratos" is forbidden: .* cannot get resource "secrets" in API group "" in the namespace "bank-demo-integrate"/],
            [["get", "secrets", "-n", "bank-demo-integrate", "-o", "name"], /cannot list resource "secrets" in API group "" in the namespace "bank-demo-integrate"/],
            [["delete", "secret", "first-employee-recovery", "-n", "bank-demo-integrate"], /cannot delete resource "secrets"/],
        ];
        for (const [args, message] of refusals) {
            const r = await kubectl(cp, [...args, bootstrap]);
            assert.notEqual(r.code, 0, `${args.join(" ")} was allowed`);
            assert.match(r.stderr, message);
        }
    });

    it("DCM's signer reads each bank's signing key by name, and cannot list the signer namespace's Secrets", async () => {
        for (const key of ["jwt-signing-key-demo-integrate", "jwt-signing-key-dnipro-integrate"]) {
            const got = await kubectl(cp, ["get", "secret", key, "-n", "dcm-platform", "-o", "name", signer]);
            assert.equal(got.code, 0, got.stderr);
        }
        const list = await kubectl(cp, ["get", "secrets", "-n", "dcm-platform", "-o", "name", signer]);
        assert.notEqual(list.code, 0);
        assert.match(list.stderr, /User "system:serviceaccount:dcm-platform:dcm-signer" cannot list resource "secrets"/);
    });
});
