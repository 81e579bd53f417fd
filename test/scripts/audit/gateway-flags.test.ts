/**
 * The audit's flags in gateway-api mode (issue 26): a ListenerSet or HTTPRoute added, removed or changed is a
 * host/TLS change, as an Ingress is; losing DCM's BackendTLSPolicy or changing its ReferenceGrant is said; a new
 * bank's overview names the hosts its ListenerSet serves. The objects are the program's own (gatewayObjects).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gatewayObjects } from "../../../components/gateway-routes";
import { flagsFor, publicHosts } from "../../../scripts/lib/audit/flags";
import { bankOverview } from "../../../scripts/lib/audit/lifecycle";
import { Masker } from "../../../scripts/lib/audit/masker";
import { DEFAULT_DCM_API_PATHS } from "../../../domain/routing";

const HOSTS = { backoffice: "backoffice-demo-integrate.dcm.example.com", api: "api-demo-integrate.dcm.example.com" };
const input = {
    namespace: "bank-demo-integrate", namespaceName: "bank-demo-integrate", labels: {}, hosts: HOSTS,
    tlsSecretNames: { backoffice: "backoffice-tls", api: "api-tls" }, clusterIssuer: "letsencrypt-prod",
    backends: { frontend: "frontend", kratosPublic: "kratos-public", kratosPublicPort: 80, jwks: "jwks-server" },
    edge: {
        routing: "gateway-api", gateway: { name: "dcm-edge", namespace: "dcm-gateway", listeners: "listener-set", className: "" }, rateLimit: "none", trustedProxyCidrs: [],
        dcmApi: { name: "dcm-api", namespace: "dcm-platform", port: 8443, hostname: "dcm-api.dcm-platform.svc.cluster.local", paths: [...DEFAULT_DCM_API_PATHS], ca: "dcm-api-ca" },
    },
    kratosPath: "/.ory", kratosHiddenPrefixes: ["admin", "identities"], jwksPath: "/.well-known/jwks.json", kratosRequestsPerSecond: 5, kratosBurst: 20,
} satisfies Parameters<typeof gatewayObjects>[0];
const objects = gatewayObjects(input);
/** The same bank with a Gateway of its own (gatewayListeners bank-gateway). */
const ownGateway = gatewayObjects({ ...input, edge: { ...input.edge, gateway: { ...input.edge.gateway, listeners: "bank-gateway", className: "traefik" } } });
const typeOf = (kind: string) => `kubernetes:gateway.networking.k8s.io/v1:${kind}`;
const change = (kind: string, name: string, op: "create" | "delete" | "update", mutate?: (o: any) => void, from = objects) => {
    const o = from.find((x) => x.kind === kind && x.metadata.name === name)!;
    const changed = structuredClone(o) as any;
    mutate?.(changed);
    return flagsFor({ urn: `urn:pulumi:demo::dcm-integration::x$${typeOf(kind)}::${name}`, type: typeOf(kind), name, op, protect: false,
        old: op === "create" ? undefined : o as any, new: op === "delete" ? undefined : changed, changedPaths: op === "update" ? ["spec"] : [] });
};

describe("audit flags for the Gateway API objects", () => {
    it("flags a ListenerSet or HTTPRoute added, removed or changed as a host/TLS change", () => {
        assert.match(change("ListenerSet", "bank-hosts", "create")[0]?.message ?? "", /ListenerSet added: new public host/);
        assert.match(change("ListenerSet", "bank-hosts", "delete")[0]?.message ?? "", /ListenerSet removed/);
        const moved = change("ListenerSet", "bank-hosts", "update", (o) => { o.spec.listeners[0].hostname = "backoffice-evil-integrate.dcm.example.com"; o.spec.listeners[0].tls.certificateRefs[0].name = "other-tls"; });
        assert.match(moved.map((f) => f.message).join("\n"), /hosts added backoffice-evil-integrate\.dcm\.example\.com/);
        assert.match(moved.map((f) => f.message).join("\n"), /TLS Secret changes from backoffice-tls, api-tls to other-tls, api-tls/);
        const issuer = change("ListenerSet", "bank-hosts", "update", (o) => { o.metadata.annotations["cert-manager.io/cluster-issuer"] = "staging"; });
        assert.match(issuer[0]?.message ?? "", /certificate issuer annotation cert-manager\.io\/cluster-issuer changes/);
        for (const f of [...moved, ...issuer]) assert.equal(f.kind, "host-tls");
        assert.match(change("HTTPRoute", "api", "update", (o) => { o.spec.rules[1].matches.push({ path: { type: "PathPrefix", value: "/" } }); })[0]?.message ?? "", /HTTPRoute api changed: what a public host serves changes/);
        assert.match(change("BackendTLSPolicy", "bank-demo-integrate-dcm-api", "delete")[0]?.message ?? "", /without verifying its certificate/);
        assert.match(change("ReferenceGrant", "bank-demo-integrate-dcm-api", "update")[0]?.message ?? "", /which routes may reach DCM's API/);
    });

    it("flags the bank's own Gateway (bank-gateway) as it flags a ListenerSet", () => {
        assert.match(change("Gateway", "bank-hosts", "create", undefined, ownGateway)[0]?.message ?? "", /Gateway added: new public host\(s\) on the bank's own Gateway/);
        assert.match(change("Gateway", "bank-hosts", "delete", undefined, ownGateway)[0]?.message ?? "", /Gateway removed/);
        const moved = change("Gateway", "bank-hosts", "update", (o) => { o.spec.listeners[2].hostname = "api-evil-integrate.dcm.example.com"; }, ownGateway);
        assert.deepEqual(moved.map((f) => f.kind), ["host-tls"]);
        assert.match(moved[0].message, /hosts added api-evil-integrate\.dcm\.example\.com/);
        assert.deepEqual(publicHosts(typeOf("Gateway"), ownGateway[0] as any).sort(), [HOSTS.api, HOSTS.api, HOSTS.backoffice, HOSTS.backoffice]);
    });

    it("names a new bank's hosts from its ListenerSet and HTTPRoutes", () => {
        assert.deepEqual(publicHosts(typeOf("ListenerSet"), objects[0] as any).sort(), [HOSTS.api, HOSTS.api, HOSTS.backoffice, HOSTS.backoffice]);
        const overview = bankOverview("new", objects.map((o) => ({ urn: "u", type: typeOf(o.kind), name: o.metadata.name, props: o as any, protect: false })) as any, new Masker());
        assert.deepEqual(overview.hosts, [HOSTS.api, HOSTS.backoffice]);
    });
});
