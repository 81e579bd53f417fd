/**
 * Properties of the whole stack's workloads, hosts and TLS (issue 3), rendered offline through the real
 * program: every TLS mode, dev mode (demo) and production mode (dnipro, with `secure:` secrets).
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { before, describe, it } from "node:test";
import * as YAML from "yaml";
import { effectiveConfig, KRATOS_ADMIN_PORT, KRATOS_PUBLIC_PORT } from "../../components/kratos-config";
import { criticalPath } from "../../scripts/lib/engine/critical-path";
import { KubernetesObject, manifestsYaml, plainObjects } from "../../scripts/lib/engine/manifests";
import { schemaProblems } from "../../scripts/lib/engine/kubernetes-schema";
import { isSecretValue, unwrapSecrets } from "../../domain/secret-values";
import { kratosConfigValidator } from "../../support/kratos-schema";
import { one, render, Rendered } from "../../support/render";

const HOSTS = { backoffice: "backoffice-demo-integrate.dcm.example.com", api: "api-demo-integrate.dcm.example.com" };

const podSpec = (o: KubernetesObject): any => (o.kind === "Deployment" || o.kind === "Job" ? (o.spec as any).template.spec : undefined);
const workloads = (objects: KubernetesObject[]) => objects.filter((o) => podSpec(o));
const ingresses = (objects: KubernetesObject[]) => objects.filter((o) => o.kind === "Ingress");
const find = (objects: KubernetesObject[], kind: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(o, `no ${kind}/${name}`);
    return o as any;
};

describe("the bank's hosts, workloads and TLS", () => {
    let demo: Rendered;
    let selfSigned: Rendered;
    // dnipro: production mode (secure: secrets) with a provided TLS Secret; four renders cost too much CI time.
    let dnipro: Rendered;
    // routing ingress-nginx (legacy): the Ingresses; the three above are in the default gateway-api mode.
    let legacy: Rendered;
    const all = () => [demo, selfSigned, dnipro, legacy];

    before(async () => {
        [demo, selfSigned, dnipro, legacy] = await Promise.all([
            render({ stack: "demo" }),
            render({ stack: "demo", overrides: { tlsMode: "self-signed" } }),
            render({ stack: "dnipro", overrides: { tlsMode: "provided", tlsSecretName: "wildcard-dcm-tls" } }),
            render({ stack: "demo", overrides: { routing: "ingress-nginx" } }),
        ]);
    });

    it("emits only schema-valid objects with the bank's labels in every TLS mode and in production mode", async () => {
        for (const r of all()) {
            const objects = plainObjects(r.resources);
            assert.deepEqual((await Promise.all(objects.map(schemaProblems))).flat(), []);
            for (const o of objects) assert.equal(o.metadata.labels?.["dcm/alias"], r.outputs.alias, `${o.kind}/${o.metadata.name}`);
        }
    });

    it("shows both hosts, the frontend, Kratos, the JWKS server and the first-employee bootstrap", () => {
        const objects = plainObjects(demo.resources);
        for (const [kind, name] of [["Deployment", "frontend"], ["Deployment", "kratos"], ["Deployment", "jwks-server"], ["Job", "first-employee-bootstrap"],
            ["Service", "kratos-public"], ["Service", "kratos-admin"], ["ConfigMap", "kratos-config"], ["Secret", "kratos"]]) find(objects, kind, name);
        const hosts = new Set(objects.filter((o) => o.kind === "HTTPRoute").flatMap((r) => (r.spec as any).hostnames));
        assert.deepEqual([...hosts].sort(), [HOSTS.api, HOSTS.backoffice]);
        const legacyHosts = new Set(ingresses(plainObjects(legacy.resources)).flatMap((i) => (i.spec as any).rules.map((r: any) => r.host)));
        assert.deepEqual([...legacyHosts].sort(), [HOSTS.api, HOSTS.backoffice]);
        assert.equal(demo.outputs.backofficeUrl, `https://${HOSTS.backoffice}`);
        assert.equal(demo.outputs.apiUrl, `https://${HOSTS.api}`);
        assert.equal(demo.outputs.kratosPublicUrl, `https://${HOSTS.backoffice}/.ory`);
        assert.equal(demo.outputs.jwksUrl, `https://${HOSTS.api}/.well-known/jwks.json`);
    });

    it("covers every Ingress host with a TLS entry and redirects HTTP to HTTPS (ingress-nginx)", () => {
        for (const r of [legacy]) {
            for (const i of ingresses(plainObjects(r.resources))) {
                const spec = i.spec as any;
                const covered = new Set(spec.tls.flatMap((t: any) => t.hosts));
                for (const rule of spec.rules) assert.ok(covered.has(rule.host), `${i.metadata.name}: ${rule.host} has no TLS entry`);
                assert.ok(spec.tls.every((t: any) => t.secretName), "every TLS entry names its Secret");
                assert.equal(i.metadata.annotations?.["nginx.ingress.kubernetes.io/force-ssl-redirect"], "true");
                assert.equal(spec.ingressClassName, "nginx");
            }
        }
    });

    it("never routes an Ingress to the Kratos admin Service or port (ingress-nginx)", () => {
        for (const r of [legacy]) {
            const objects = plainObjects(r.resources);
            const admin = find(objects, "Service", "kratos-admin");
            assert.equal(admin.spec.type, "ClusterIP");
            for (const i of ingresses(objects)) {
                for (const p of (i.spec as any).rules.flatMap((rule: any) => rule.http.paths)) {
                    assert.notEqual(p.backend.service.name, "kratos-admin");
                    assert.notEqual(p.backend.service.port.number, KRATOS_ADMIN_PORT);
                }
            }
        }
    });

    it("routes /.ory to Kratos public with the prefix stripped, / to the frontend, the JWKS and DCM's API on the api host (ingress-nginx)", () => {
        const objects = plainObjects(legacy.resources);
        const kratos = find(objects, "Ingress", "backoffice-kratos");
        const [path] = kratos.spec.rules[0].http.paths;
        assert.equal(path.backend.service.name, "kratos-public");
        assert.equal(path.backend.service.port.number, KRATOS_PUBLIC_PORT);
        assert.equal(path.pathType, "ImplementationSpecific");
        const rewrite = kratos.metadata.annotations["nginx.ingress.kubernetes.io/rewrite-target"];
        // nginx applies the regex and the rewrite as ingress-nginx generates them: check the same with JS.
        const re = new RegExp(`^${path.path}`);
        const strip = (p: string) => p.replace(re, rewrite.replace(/\$(\d)/g, "$$$1"));
        assert.equal(strip("/.ory/self-service/login/browser"), "/self-service/login/browser");
        assert.equal(strip("/.ory"), "/");
        assert.equal(re.test("/.oryx/a"), false);
        assert.equal(re.test("/xory/a"), false, "the dot is literal");
        const frontend = find(objects, "Ingress", "backoffice").spec.rules[0].http.paths[0];
        assert.deepEqual([frontend.path, frontend.backend.service.name], ["/", "frontend"]);
        const jwks = find(objects, "Ingress", "api-jwks").spec.rules[0].http.paths[0];
        assert.deepEqual([jwks.path, jwks.pathType, jwks.backend.service.name], ["/.well-known/jwks.json", "Exact", "jwks-server"]);
        const dcm = find(objects, "Ingress", "api-dcm");
        assert.equal(dcm.spec.rules[0].http.paths[0].backend.service.name, "dcm-api");
        const upstream = find(objects, "Service", "dcm-api");
        assert.deepEqual([upstream.spec.type, upstream.spec.externalName, upstream.spec.ports[0].port], ["ExternalName", "dcm-api.dcm-platform.svc.cluster.local", 8443]);
        // HTTPS to DCM's API, verified: ingress-nginx's proxy-ssl-* annotations name the CA Secret in DCM's namespace.
        const a = dcm.metadata.annotations;
        assert.deepEqual([a["nginx.ingress.kubernetes.io/backend-protocol"], a["nginx.ingress.kubernetes.io/proxy-ssl-verify"], a["nginx.ingress.kubernetes.io/proxy-ssl-secret"],
            a["nginx.ingress.kubernetes.io/proxy-ssl-name"], a["nginx.ingress.kubernetes.io/proxy-ssl-server-name"]],
        ["HTTPS", "on", "dcm-platform/dcm-api-ca", "dcm-api.dcm-platform.svc.cluster.local", "on"]);
    });

    it("runs every pod under the restricted Pod Security Standard with pinned images, resources and probes", () => {
        for (const r of [demo, dnipro]) {
            for (const w of workloads(plainObjects(r.resources))) {
                const spec = podSpec(w);
                const id = `${w.kind}/${w.metadata.name}`;
                assert.equal(spec.securityContext.runAsNonRoot, true, id);
                assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault", id);
                assert.equal(spec.hostNetwork ?? false, false);
                const mounts = new Set((spec.volumes ?? []).map((v: any) => v.name));
                for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
                    const cid = `${id} ${c.name}`;
                    assert.equal(c.securityContext.allowPrivilegeEscalation, false, cid);
                    assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], cid);
                    assert.equal(c.securityContext.capabilities.add, undefined, cid);
                    assert.equal(c.securityContext.readOnlyRootFilesystem, true, cid);
                    assert.equal(c.securityContext.privileged ?? false, false, cid);
                    assert.match(c.image, /^[^:@]+(:\d+\/[^:@]+)?:[\w][\w.-]*@sha256:[a-f0-9]{64}$/, `${cid}: pinned by tag and digest`);
                    assert.ok(!c.image.endsWith(":latest"), cid);
                    for (const k of ["cpu", "memory"]) {
                        assert.ok(c.resources?.requests?.[k], `${cid}: requests.${k}`);
                        assert.ok(c.resources?.limits?.[k], `${cid}: limits.${k}`);
                    }
                    for (const m of c.volumeMounts ?? []) assert.ok(mounts.has(m.name), `${cid}: mount ${m.name} has a volume`);
                }
                for (const c of spec.containers) {
                    if (w.kind === "Deployment") {
                        assert.ok(c.readinessProbe && c.livenessProbe, `${id} ${c.name}: probes`);
                        const ports = new Set((c.ports ?? []).map((p: any) => p.name));
                        for (const probe of [c.readinessProbe, c.livenessProbe]) assert.ok(ports.has(probe.httpGet.port), `${id}: probe on a declared port`);
                    }
                }
                if (w.kind === "Job") assert.ok((w.spec as any).activeDeadlineSeconds > 0, `${id}: bounded in time`);
                if (w.kind === "Deployment" && (w.spec as any).replicas > 1) {
                    const pdbs = plainObjects(r.resources).filter((o) => o.kind === "PodDisruptionBudget");
                    const selector = (w.spec as any).selector.matchLabels;
                    assert.ok(pdbs.some((p) => JSON.stringify((p.spec as any).selector.matchLabels) === JSON.stringify(selector)), `${id}: PDB`);
                }
            }
        }
    });

    it("generates Kratos secrets of the right lengths, the pagination key included, as Pulumi secrets, with the DSN from secret config", () => {
        for (const r of [demo, dnipro]) {
            const secret = one(r, "kubernetes:core/v1:Secret", "kratos-secrets");
            assert.ok(isSecretValue(secret.outputs.stringData));
            const data = unwrapSecrets(secret.outputs.stringData) as Record<string, string>;
            assert.equal(data.secretsCipher.length, 32);
            assert.ok(data.secretsCookie.length >= 32);
            assert.ok(data.secretsDefault.length >= 32);
            // Kratos v26.2.0 falls back to an all-zero page-token key without it (GO-2026-4801).
            assert.ok(data.secretsPagination.length >= 32);
            const generated = [data.secretsCipher, data.secretsCookie, data.secretsDefault, data.secretsPagination];
            assert.equal(new Set(generated).size, 4);
            for (const v of generated) assert.doesNotMatch(v, /,/, "Kratos splits at commas");
            const manifests = manifestsYaml(r.resources);
            for (const v of generated) assert.ok(!manifests.includes(v), "a generated Kratos secret is in the rendered manifests");
        }
        const prod = unwrapSecrets(one(dnipro, "kubernetes:core/v1:Secret", "kratos-secrets").outputs.stringData) as Record<string, string>;
        assert.equal(prod.dsn, "offline-placeholder-for-kratosDsn");
        assert.equal(prod.smtpConnectionUri, "offline-placeholder-for-kratosSmtpUri");
        const text = manifestsYaml(dnipro.resources);
        assert.ok(!text.includes("offline-placeholder-for-kratosDsn"), "the DSN is masked in the rendered manifests");
        const dev = unwrapSecrets(one(demo, "kubernetes:core/v1:Secret", "kratos-secrets").outputs.stringData) as Record<string, string>;
        assert.match(dev.dsn, /^sqlite:\/\//);
    });

    it("mounts a kratos.yml that validates against the pinned Kratos release's schema with the Secret's values, on the backoffice host", () => {
        const validate = kratosConfigValidator();
        for (const r of [demo, dnipro]) {
            const objects = plainObjects(r.resources);
            const file = YAML.parse(find(objects, "ConfigMap", "kratos-config").data["kratos.yml"]);
            const secrets = unwrapSecrets(one(r, "kubernetes:core/v1:Secret", "kratos-secrets").outputs.stringData) as Record<string, string>;
            // The offline placeholders are not URLs: validate with well-formed stand-ins of the same kind.
            const env = { ...secrets, dsn: secrets.dsn.startsWith("offline-") ? "postgres://k:p@db:5432/k" : secrets.dsn,
                smtpConnectionUri: secrets.smtpConnectionUri.startsWith("offline-") ? "smtps://u:p@mail:465/" : secrets.smtpConnectionUri };
            assert.ok(validate(effectiveConfig(file, env)), JSON.stringify(validate.errors));
            const backoffice = r.outputs.backofficeHost as string;
            assert.equal(file.serve.public.base_url, `https://${backoffice}/.ory`);
            assert.equal(r.outputs.kratosPublicUrl, file.serve.public.base_url);
            assert.deepEqual(file.selfservice.allowed_return_urls, [`https://${backoffice}/`]);
            const deployment = find(objects, "Deployment", "kratos");
            const spec = deployment.spec.template.spec;
            // Dev mode migrates the pod's own SQLite file in an init container; production has a migrations Job.
            if (r === demo) assert.deepEqual(spec.initContainers[0].args.slice(0, 5), ["migrate", "sql", "up", "-e", "--yes"]);
            else assert.deepEqual(spec.initContainers, []);
            const env2 = new Set(spec.containers[0].env.map((e: any) => e.name));
            for (const name of ["DSN", "SECRETS_COOKIE", "SECRETS_CIPHER", "SECRETS_PAGINATION", "COURIER_SMTP_CONNECTION_URI"]) assert.ok(env2.has(name), name);
            assert.equal(file.version, "v26.2.0", "kratos.yml is written for the release the image runs");
            assert.equal(spec.containers[0].image.split("@")[0], "oryd/kratos:v26.2.0");
            assert.ok(spec.containers[0].env.every((e: any) => e.value === undefined), "every Kratos variable comes from the Secret");
        }
        const prod = plainObjects(dnipro.resources);
        assert.equal(find(prod, "Deployment", "kratos").spec.replicas, 2);
        assert.deepEqual(find(prod, "Deployment", "kratos-courier").spec.template.spec.containers[0].args.slice(0, 2), ["courier", "watch"]);
        const dev = plainObjects(demo.resources);
        assert.equal(find(dev, "Deployment", "kratos").spec.replicas, 1, "SQLite on an emptyDir: one pod");
        assert.ok(find(dev, "Deployment", "kratos").spec.template.spec.containers[0].args.includes("--watch-courier"));
        assert.ok(!dev.some((o) => o.metadata.name === "kratos-courier"));
    });

    it("admits exactly the flows the bank needs in its NetworkPolicies", () => {
        for (const r of [demo, dnipro]) {
            const objects = plainObjects(r.resources);
            const policies = objects.filter((o) => o.kind === "NetworkPolicy").map((o) => o as any);
            const admin = find(objects, "NetworkPolicy", "kratos-admin-from-bootstrap");
            assert.deepEqual(admin.spec.ingress, [{
                from: [{ podSelector: { matchLabels: {
                    "app.kubernetes.io/name": "first-employee", "dcm/role": "first-employee-bootstrap", "dcm/kratos-admin-client": "first-employee-bootstrap",
                } } }],
                ports: [{ protocol: "TCP", port: KRATOS_ADMIN_PORT }],
            }]);
            // No other policy admits anything to the admin port.
            for (const p of policies.filter((x) => x.metadata.name !== "kratos-admin-from-bootstrap")) {
                for (const rule of p.spec.ingress ?? []) assert.ok(!(rule.ports ?? []).some((port: any) => port.port === KRATOS_ADMIN_PORT), p.metadata.name);
            }
            // The Gateway's namespace by default in gateway-api mode (the data plane's; ingress-nginx in the legacy mode).
            const fromIngress = policies.filter((p) => (p.spec.ingress ?? []).some((rule: any) =>
                (rule.from ?? []).some((f: any) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "dcm-gateway")));
            assert.deepEqual(fromIngress.map((p) => p.metadata.name).sort(), ["frontend-from-ingress", "jwks-server-from-ingress", "kratos-public-from-ingress"]);
            for (const p of policies) for (const rule of p.spec.ingress ?? []) assert.ok(rule.from?.length > 0, `${p.metadata.name}: a rule with no source admits everyone`);
            // DNS is no longer open to every pod (issue 23): only the rules below carry it.
            assert.ok(!policies.some((p) => p.metadata.name === "allow-dns"));
        }
        // Kratos' clients of a named server: its address, and the cluster's DNS to resolve the name.
        const dns = {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
            ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
        };
        const database = find(plainObjects(dnipro.resources), "NetworkPolicy", "kratos-database-egress");
        assert.deepEqual(database.spec.egress, [{ to: [{ ipBlock: { cidr: "10.42.17.5/32" } }], ports: [{ protocol: "TCP", port: 5432 }] }, dns]);
        const smtp = find(plainObjects(dnipro.resources), "NetworkPolicy", "kratos-smtp-egress");
        assert.deepEqual(smtp.spec.egress, [{ to: [{ ipBlock: { cidr: "10.42.18.25/32" } }], ports: [465, 587].map((port) => ({ protocol: "TCP", port })) }, dns]);
        assert.ok(!plainObjects(demo.resources).some((o) => /^kratos-.*-egress$/.test(o.metadata.name)), "dev mode reaches no database or mail server");
    });

    it("uses cert-manager by default: the ListenerSet asks cert-manager for one Secret per host listener", () => {
        const set = find(plainObjects(demo.resources), "ListenerSet", "bank-hosts");
        assert.equal(set.metadata.annotations["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
        const https = set.spec.listeners.filter((l: any) => l.protocol === "HTTPS");
        assert.deepEqual(https.map((l: any) => [l.hostname, l.tls.certificateRefs.map((c: any) => c.name)]).sort(),
            [[HOSTS.api, ["api-tls"]], [HOSTS.backoffice, ["backoffice-tls"]]]);
        assert.deepEqual(set.spec.parentRef, { group: "gateway.networking.k8s.io", kind: "Gateway", name: "dcm-edge", namespace: "dcm-gateway" });
        assert.ok(!plainObjects(demo.resources).some((o) => o.kind === "Secret" && /-tls$/.test(o.metadata.name)), "cert-manager writes the Secrets, the stack does not");
    });

    it("uses cert-manager in ingress-nginx mode: one issuer annotation per host, on exactly one Ingress each", () => {
        const objects = plainObjects(legacy.resources);
        const annotated = ingresses(objects).filter((i) => i.metadata.annotations?.["cert-manager.io/cluster-issuer"] === "letsencrypt-prod");
        const hostsOf = (i: KubernetesObject) => (i.spec as any).rules.map((r: any) => r.host);
        assert.deepEqual(annotated.flatMap(hostsOf).sort(), [HOSTS.api, HOSTS.backoffice]);
        for (const i of ingresses(objects)) {
            const [entry] = (i.spec as any).tls;
            assert.equal(entry.secretName, `${hostsOf(i)[0].split("-")[0]}-tls`);
        }
        assert.equal(legacy.outputs.tlsCaCertificatePem, undefined);
        assert.ok(criticalPath(demo.resources).length <= 4, "the critical path target");
    });

    it("uses the provided Secret for both hosts, with no issuer and no certificate made", () => {
        const objects = plainObjects(dnipro.resources);
        const set = find(objects, "ListenerSet", "bank-hosts");
        assert.equal(set.metadata.annotations?.["cert-manager.io/cluster-issuer"], undefined);
        for (const l of set.spec.listeners.filter((x: any) => x.protocol === "HTTPS")) assert.deepEqual(l.tls.certificateRefs.map((c: any) => c.name), ["wildcard-dcm-tls"]);
        assert.ok(!dnipro.resources.some((r) => r.type.startsWith("tls:index/") && r.name.startsWith("hosts-")));
        assert.equal(dnipro.outputs.tlsCaCertificatePem, undefined);
    });

    it("makes real host certificates in self-signed mode: a TLS client trusting the CA output reaches each host", async () => {
        const ca = selfSigned.outputs.tlsCaCertificatePem as string;
        assert.ok(new crypto.X509Certificate(ca).ca);
        const objects = plainObjects(selfSigned.resources);
        for (const host of [HOSTS.backoffice, HOSTS.api]) {
            const listener = (find(objects, "ListenerSet", "bank-hosts").spec.listeners as any[]).find((l) => l.hostname === host && l.protocol === "HTTPS");
            const secret = find(objects, "Secret", listener.tls.certificateRefs[0].name);
            assert.equal(secret.type, "kubernetes.io/tls");
            assert.ok(isSecretValue(one(selfSigned, "kubernetes:core/v1:Secret", `hosts-${host.split("-")[0]}-tls`).outputs.stringData));
            const { "tls.crt": chain, "tls.key": key } = secret.stringData as Record<string, string>;
            const leaf = new crypto.X509Certificate(chain);
            assert.equal(leaf.checkHost(host), host);
            assert.equal(leaf.checkHost(host === HOSTS.api ? HOSTS.backoffice : HOSTS.api), undefined, "one certificate per host");
            // A real handshake: the server presents the Secret's chain, the client trusts only the CA output.
            const server = https.createServer({ cert: chain, key }, (_req, res) => res.end("ok"));
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            try {
                const socket = tls.connect({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, servername: host, ca });
                await new Promise<void>((resolve, reject) => { socket.once("secureConnect", resolve); socket.once("error", reject); });
                assert.equal(socket.authorized, true);
                socket.destroy();
                const wrongName = tls.connect({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, servername: "backoffice-other-integrate.dcm.example.com", ca });
                await assert.rejects(new Promise((resolve, reject) => { wrongName.once("secureConnect", resolve); wrongName.once("error", reject); }), /altnames|Hostname/i);
                wrongName.destroy();
            } finally {
                server.close();
            }
        }
        const manifest = manifestsYaml(selfSigned.resources);
        assert.ok(!/BEGIN (EC )?PRIVATE KEY/.test(manifest), "host keys are masked in the rendered manifests");
    });
});
