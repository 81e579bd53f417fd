import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblems } from "../../domain/config";
import { validateStackConfig } from "../../infra/validation";
import { validRaw } from "../../support/configs";

const longAlias = (n: number) => `b${"a".repeat(n - 1)}`;
/** A valid DNS name of exactly n characters (labels of at most 63), for the 253-character host rule. */
const longDomain = (n: number) => {
    const labels: string[] = [];
    for (let left = n; left > 0; left -= 64) labels.push("d".repeat(Math.min(63, left)));
    const name = labels.join(".");
    assert.equal(name.length, n);
    return name;
};
/** `backoffice-demo-integrate.`: what the longest host adds to the base domain for the demo stack. */
const DEMO_HOST_PREFIX = "backoffice-demo-integrate.".length;

/** Each case changes the valid config and expects exactly one problem, on `key`, matching `message`. */
const BAD_CONFIGS: { name: string; change: Record<string, unknown>; key: string; message: RegExp; stack?: string }[] = [
    { name: "alias missing", change: { alias: undefined }, key: "alias", message: /is required/ },
    { name: "alias with upper case", change: { alias: "Demo" }, key: "alias", message: /must be a DNS label/ },
    { name: "alias with an underscore", change: { alias: "demo_bank" }, key: "alias", message: /must be a DNS label/ },
    { name: "alias with a shell character", change: { alias: "demo;rm" }, key: "alias", message: /must be a DNS label/ },
    { name: "alias with a path", change: { alias: "../demo" }, key: "alias", message: /must be a DNS label/ },
    { name: "alias ending in a dash", change: { alias: "demo-" }, key: "alias", message: /must be a DNS label/ },
    { name: "alias starting with a digit", change: { alias: "1demo" }, key: "alias", message: /must be a DNS label/ },
    { name: "alias not the stack name", change: { alias: "other" }, key: "alias", message: /must equal the stack name 'demo'/ },
    { name: "alias too long for a host label", change: { alias: longAlias(43) }, stack: longAlias(43), key: "alias", message: /is too long: host label 'backoffice-b.*-integrate' has 64 characters.*at most 42/ },
    { name: "alias making a host longer than 253 characters", change: { baseDomain: longDomain(254 - DEMO_HOST_PREFIX) }, key: "alias", message: /makes host 'backoffice-demo-integrate\.d+(\.d+)*' longer than 253 characters/ },
    { name: "display name missing", change: { displayName: "" }, key: "displayName", message: /is required/ },
    { name: "display name with a control character", change: { displayName: "Demo\u0007Bank" }, key: "displayName", message: /must not contain U\+0007 \(a control character\)/ },
    { name: "display name with markup (it reaches DCM's frontend as BANK_DISPLAY_NAME)", change: { displayName: "Demo <img src=x onerror=alert(1)> Bank" }, key: "displayName", message: /without leading or trailing spaces or markup characters \(< >\)/ },
    { name: "display name with a closing tag only", change: { displayName: "Demo Bank</title>" }, key: "displayName", message: /markup characters/ },
    { name: "display name too long", change: { displayName: "B".repeat(101) }, key: "displayName", message: /1 to 100 printable/ },
    // Characters are code points, as the JSON Schema's maxLength counts them (100 of these are 200 UTF-16 units).
    { name: "display name of 101 astral characters", change: { displayName: "\u{1f3e6}".repeat(101) }, key: "displayName", message: /1 to 100 printable/ },
    { name: "asset code not ISO 4217", change: { assetCode: "XYZ" }, key: "assetCode", message: /must be an ISO 4217 currency code.*'XYZ'/ },
    { name: "asset code lower case", change: { assetCode: "uah" }, key: "assetCode", message: /ISO 4217/ },
    { name: "email without @", change: { firstEmployeeEmail: "officer.demo-bank.example" }, key: "firstEmployeeEmail", message: /must be an email address/ },
    { name: "email with a space", change: { firstEmployeeEmail: "an officer@demo-bank.example" }, key: "firstEmployeeEmail", message: /must be an email address/ },
    { name: "email without a domain dot", change: { firstEmployeeEmail: "officer@localhost" }, key: "firstEmployeeEmail", message: /must be an email address/ },
    { name: "key keeper over http", change: { keyKeeperUrl: "http://keykeeper.demo-bank.example" }, key: "keyKeeperUrl", message: /must use https; got 'http'/ },
    { name: "key keeper with credentials", change: { keyKeeperUrl: "https://user:pw@keykeeper.demo-bank.example" }, key: "keyKeeperUrl", message: /must not contain credentials/ },
    { name: "key keeper not a URL", change: { keyKeeperUrl: "keykeeper.demo-bank.example" }, key: "keyKeeperUrl", message: /must be an absolute URL/ },
    { name: "key keeper with a fragment", change: { keyKeeperUrl: "https://keykeeper.demo-bank.example/#x" }, key: "keyKeeperUrl", message: /#fragment/ },
    { name: "unknown key, misspelt", change: { firstEmployeEmail: "a@b.example" }, key: "firstEmployeEmail", message: /is not a known setting; did you mean 'firstEmployeeEmail'\?/ },
    { name: "base domain with upper case", change: { baseDomain: "DCM.example.com" }, key: "baseDomain", message: /must be a DNS name/ },
    { name: "environment not a label", change: { environment: "Integrate!" }, key: "environment", message: /must be a DNS label/ },
    { name: "unknown TLS mode", change: { tlsMode: "letsencrypt" }, key: "tlsMode", message: /must be one of cert-manager, self-signed, provided; got 'letsencrypt'/ },
    { name: "cert-manager without issuer", change: { tlsIssuer: "" }, key: "tlsIssuer", message: /is required when tlsMode is cert-manager/ },
    { name: "provided TLS without a secret", change: { tlsMode: "provided" }, key: "tlsSecretName", message: /is required when tlsMode is provided/ },
    { name: "TLS secret not a Kubernetes name", change: { tlsMode: "provided", tlsSecretName: "Bad_Name" }, key: "tlsSecretName", message: /must be a Kubernetes object name \(a DNS subdomain\)/ },
    { name: "TLS issuer not a Kubernetes name", change: { tlsIssuer: "Bad_Name" }, key: "tlsIssuer", message: /must be a Kubernetes object name \(a DNS subdomain\)/ },
    { name: "image with latest", change: { frontendImage: "registry.example/frontend:latest" }, key: "frontendImage", message: /uses the tag "latest", which moves: pin a version tag and its digest/ },
    { name: "image without tag", change: { kratosImage: "oryd/kratos" }, key: "kratosImage", message: /has no tag \(implicitly latest\): pin it as name:tag@sha256:/ },
    { name: "image with a tag but no digest", change: { kratosImage: "oryd/kratos:v1.3.1" }, key: "kratosImage", message: /has no digest: a tag can be moved to other content/ },
    { name: "image with a bad digest", change: { jwksServerImage: "nginx:1.27.3@sha256:abc" }, key: "jwksServerImage", message: /has a malformed digest/ },
    { name: "DCM API with credentials", change: { dcmApiUpstream: "https://u:p@dcm-api.dcm-platform.svc:8443" }, key: "dcmApiUpstream", message: /must not contain credentials/ },
    { name: "DCM API over ftp", change: { dcmApiUpstream: "ftp://dcm-api" }, key: "dcmApiUpstream", message: /must use https/ },
    { name: "DCM API over plain http", change: { dcmApiUpstream: "http://dcm-api.dcm-platform.svc.cluster.local:8080" }, key: "dcmApiUpstream", message: /must use https: .* unencrypted or to an unverified server; got 'http'/ },
    { name: "DCM API outside the cluster", change: { dcmApiUpstream: "https://api.dcm.example.com" }, key: "dcmApiUpstream", message: /must name DCM's API by its Service's in-cluster name/ },
    { name: "DCM API with a path", change: { dcmApiUpstream: "https://dcm-api.dcm-platform.svc/v1" }, key: "dcmApiUpstream", message: /must have no path/ },
    { name: "unknown routing", change: { routing: "istio" }, key: "routing", message: /must be one of gateway-api, ingress-nginx; got 'istio'/ },
    { name: "gateway without a name", change: { gatewayName: "" }, key: "gatewayName", message: /must be the name of the platform's Gateway/ },
    { name: "unknown gateway listeners", change: { gatewayListeners: "gateway" }, key: "gatewayListeners", message: /must be one of listener-set, bank-gateway; got 'gateway'/ },
    { name: "a bank Gateway without its GatewayClass", change: { gatewayListeners: "bank-gateway" }, key: "gatewayClassName", message: /must name the GatewayClass of the bank's Gateway/ },
    { name: "a bank Gateway with a class that is no name", change: { gatewayListeners: "bank-gateway", gatewayClassName: "Traefik Class" }, key: "gatewayClassName", message: /a DNS subdomain/ },
    { name: "a bank Gateway under ingress-nginx", change: { routing: "ingress-nginx", gatewayListeners: "bank-gateway", gatewayClassName: "traefik" }, key: "gatewayListeners", message: /applies to routing gateway-api only/ },
    { name: "gateway namespace not a label", change: { gatewayNamespace: "Edge_NS" }, key: "gatewayNamespace", message: /must be the namespace of the platform's Gateway/ },
    { name: "unknown rate limit implementation", change: { edgeRateLimit: "kong" }, key: "edgeRateLimit", message: /must be one of none, envoy-gateway, traefik; got 'kong'/ },
    { name: "Traefik rate limit on a ListenerSet", change: { edgeRateLimit: "traefik" }, key: "edgeRateLimit", message: /traefik needs gatewayListeners: bank-gateway/ },
    { name: "Envoy rate limit on ingress-nginx", change: { routing: "ingress-nginx", edgeRateLimit: "envoy-gateway" }, key: "edgeRateLimit", message: /applies to routing gateway-api only/ },
    { name: "trusting every address as a proxy", change: { trustedProxyCidrs: ["0.0.0.0/0"] }, key: "trustedProxyCidrs[0]", message: /is wider than a \/8 \(it is every address\)/ },
    { name: "a trusted proxy range that is not a CIDR", change: { trustedProxyCidrs: ["10.0.0.0/16", "proxy"] }, key: "trustedProxyCidrs[1]", message: /must be a CIDR/ },
    { name: "a catch-all in the DCM API allow-list", change: { dcmApiPaths: ["/v1/transfers", "/"] }, key: "dcmApiPaths[1]", message: /must be a path prefix such as \/v1\/transfers/ },
    { name: "an empty DCM API allow-list", change: { dcmApiPaths: [] }, key: "dcmApiPaths", message: /must list at least one path: .*no catch-all/ },
    { name: "a dot-dot segment in the allow-list", change: { dcmApiPaths: ["/v1/../admin"] }, key: "dcmApiPaths[0]", message: /must not contain '\.' or '\.\.' segments/ },
    { name: "the allow-list covering the JWKS", change: { dcmApiPaths: ["/.well-known"] }, key: "dcmApiPaths[0]", message: /must not cover \/\.well-known/ },
    { name: "a DCM API path twice", change: { dcmApiPaths: ["/v1/transfers", "/v1/transfers"] }, key: "dcmApiPaths[1]", message: /is listed twice/ },
    { name: "a DCM API CA that is no object name", change: { dcmApiCa: "CA Bundle" }, key: "dcmApiCa", message: /must name the object in DCM's namespace whose `ca.crt` verifies DCM's API/ },
    { name: "signing algorithm unknown", change: { signingKeys: [{ slot: "a", algorithm: "HS256" }] }, key: "signingKeys[0].algorithm", message: /must be one of ES256, ES384, ES512, RS256, PS256; got 'HS256'/ },
    { name: "RSA key too small", change: { signingKeys: [{ slot: "a", algorithm: "RS256", rsaBits: 2048 }] }, key: "signingKeys[0].rsaBits", message: /multiple of 1024 from 3072 to 8192; got 2048/ },
    { name: "rsaBits on an EC key", change: { signingKeys: [{ slot: "a", algorithm: "ES256", rsaBits: 4096 }] }, key: "signingKeys[0].rsaBits", message: /applies only to RS256 and PS256/ },
    { name: "two keys in one slot", change: { signingKeys: [{ slot: "a" }, { slot: "a" }] }, key: "signingKeys[1].slot", message: /'a' is used twice/ },
    { name: "three signing keys", change: { signingKeys: [{ slot: "a" }, { slot: "b" }, { slot: "c" }] }, key: "signingKeys", message: /one key, or two while rotating/ },
    { name: "unknown field in a key", change: { signingKeys: [{ slot: "a", curve: "P-256" }] }, key: "signingKeys[0].curve", message: /is not a known field/ },
    { name: "active key not a slot", change: { activeSigningKey: "b" }, key: "activeSigningKey", message: /must name one of the signingKeys slots \(a\); got 'b'/ },
];

describe("config validation", () => {
    it("accepts the valid base config and derives names and hosts", () => {
        const result = validateStackConfig(validRaw(), "demo");
        assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
        assert.equal(result.settings.namespace, "bank-demo-integrate");
        assert.equal(result.settings.hosts.backoffice, "backoffice-demo-integrate.dcm.example.com");
        assert.equal(result.settings.hosts.api, "api-demo-integrate.dcm.example.com");
        assert.equal(result.settings.bank.assetCode, "UAH", "asset code defaults to UAH");
        assert.deepEqual(result.settings.bank.signingKeys, [{ slot: "a", algorithm: "ES256" }], "one ES256 key by default");
        assert.equal(result.settings.bank.activeSigningKey, "a");
    });

    for (const c of BAD_CONFIGS) {
        it(`rejects: ${c.name}`, () => {
            const result = validateStackConfig(validRaw("demo", c.change), c.stack ?? "demo");
            assert.equal(result.ok, false, "should be rejected");
            if (result.ok) return;
            assert.equal(result.problems.length, 1, `exactly one problem expected, got: ${JSON.stringify(result.problems)}`);
            assert.equal(result.problems[0].key, c.key);
            assert.match(result.problems[0].message, c.message);
        });
    }

    it("reads the edge's lists as the CLI passes them (JSON text: Pulumi.yaml's list defaults) and as comma-separated text", () => {
        const paths = ["/v1/customers", "/v1/transfers"];
        for (const form of [JSON.stringify(paths), paths.join(", "), paths]) {
            const result = validateStackConfig(validRaw("demo", { dcmApiPaths: form, trustedProxyCidrs: "[]" }), "demo");
            assert.ok(result.ok, `${JSON.stringify(form)}: ${JSON.stringify(!result.ok && result.problems)}`);
            assert.deepEqual(result.settings.platform.edge.dcmApi.paths, paths);
            assert.deepEqual(result.settings.platform.edge.trustedProxyCidrs, []);
        }
        const broken = validateStackConfig(validRaw("demo", { dcmApiPaths: '["/v1/customers",' }), "demo");
        assert.equal(broken.ok, false, "JSON text that does not parse is refused, not split on commas");
    });

    it("accepts the longest alias that keeps every host label within 63 characters", () => {
        const alias = longAlias(42);
        assert.equal(`backoffice-${alias}-integrate`.length, 63);
        assert.ok(validateStackConfig(validRaw(alias), alias).ok);
    });

    it("accepts a base domain whose longest host is exactly 253 characters", () => {
        const baseDomain = longDomain(253 - DEMO_HOST_PREFIX);
        const result = validateStackConfig(validRaw("demo", { baseDomain }), "demo");
        assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
        assert.equal(result.settings.hosts.backoffice.length, 253);
    });

    it("counts a display name's characters as code points: 100 astral characters are 100, not 200", () => {
        const result = validateStackConfig(validRaw("demo", { displayName: "\u{1f3e6}".repeat(100) }), "demo");
        assert.ok(validateStackConfig(validRaw("demo", { displayName: "Smith & Sons \"Bank\" O'Brien" }), "demo").ok, "quotes and & stay allowed");
        assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    });

    it("accepts dotted Kubernetes names for the TLS secret and issuer", () => {
        const result = validateStackConfig(validRaw("demo", { tlsMode: "provided", tlsSecretName: "bank.tls-2", tlsIssuer: "issuer.dcm-1" }), "demo");
        assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
        assert.equal(result.settings.platform.tlsSecretName, "bank.tls-2");
    });

    it("counts the environment in the alias length rule", () => {
        const alias = longAlias(41);
        assert.ok(validateStackConfig(validRaw(alias), alias).ok, "fits with 'integrate'");
        const result = validateStackConfig(validRaw(alias, { environment: "integration" }), alias);
        assert.equal(result.ok, false);
        assert.match(!result.ok ? result.problems[0].message : "", /'backoffice-b.*-integration' has 64 characters/);
    });

    it("reports every problem of a config at once, each naming key and rule", () => {
        const result = validateStackConfig(validRaw("demo", {
            alias: "Demo", assetCode: "XXX1", firstEmployeeEmail: "nope", keyKeeperUrl: "http://x.example", tlsMode: "none",
        }), "demo");
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.deepEqual(result.problems.map((p) => p.key).sort(), ["alias", "assetCode", "firstEmployeeEmail", "keyKeeperUrl", "tlsMode"]);
        const text = formatProblems(result.problems, "dcm-integration", "demo");
        assert.match(text, /^Invalid configuration for stack 'demo' \(5 problems\); nothing was created:/);
        assert.match(text, /- dcm-integration:keyKeeperUrl must use https/);
        assert.equal(text.split("\n").length, 6);
    });

    it("accepts images pinned by tag and digest, and RSA keys of 3072 bits or more", () => {
        const digest = `registry.example/frontend:1.14.2@sha256:${"a".repeat(64)}`;
        const result = validateStackConfig(validRaw("demo", {
            frontendImage: digest,
            signingKeys: [{ slot: "a", algorithm: "ES256" }, { slot: "b", algorithm: "RS256", rsaBits: 4096 }],
            activeSigningKey: "b",
        }), "demo");
        assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
        assert.equal(result.settings.platform.images.frontend, digest);
        assert.deepEqual(result.settings.bank.signingKeys[1], { slot: "b", algorithm: "RS256", rsaBits: 4096 });
    });

    it("gives RSA keys 3072 bits when no size is named", () => {
        const result = validateStackConfig(validRaw("demo", { signingKeys: [{ slot: "a", algorithm: "PS256" }] }), "demo");
        assert.ok(result.ok);
        assert.equal(result.settings.bank.signingKeys[0].rsaBits, 3072);
    });
});
