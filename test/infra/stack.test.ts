/**
 * Properties of whole bank stacks, rendered offline through the real program and entry point.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { ENTITY_USERS } from "../../domain/entity-users";
import { bankLabels } from "../../domain/names";
import { SKIP_AWAIT_ANNOTATION } from "../../infra/skip-await";
import { validateStackConfig } from "../../infra/validation";
import { KubernetesObject, kubernetesObjects, manifestsYaml, maskForDisplay, plainObjects } from "../../scripts/lib/engine/manifests";
import { schemaProblems } from "../../scripts/lib/engine/kubernetes-schema";
import { isSecretValue, secretLeaves, unwrapSecrets } from "../../domain/secret-values";
import { byType, one, render, Rendered } from "../../support/render";
import { validRaw } from "../../support/configs";
import { PROJECT_ROOT } from "../../domain/project";

const CANARY = "CANARY7f3a9c";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
const SECRET = "kubernetes:core/v1:Secret";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

/** Every string in v that is not inside a secret marker. */
function plainStrings(v: unknown, into: string[] = []): string[] {
    if (isSecretValue(v)) return into;
    if (typeof v === "string") into.push(v);
    else if (Array.isArray(v)) v.forEach((x) => plainStrings(x, into));
    else if (typeof v === "object" && v !== null) Object.values(v).forEach((x) => plainStrings(x, into));
    return into;
}

/** RFC 7638 thumbprint computed by hand (not with jose): SHA-256 of the required members in lexical order. */
function rfc7638(jwk: Record<string, string>): string {
    const members = jwk.kty === "EC" ? ["crv", "kty", "x", "y"] : ["e", "kty", "n"];
    const canonical = `{${members.map((m) => `"${m}":"${jwk[m]}"`).join(",")}}`;
    return crypto.createHash("sha256").update(canonical).digest("base64url");
}

describe("a bank stack (demo, with planted canaries)", () => {
    let demo: Rendered;
    before(async () => { demo = await render({ stack: "demo", secretCanary: CANARY }); });

    it("generates real secrets of the requested shape: two 48-character passwords with the canary, a P-256 key", () => {
        const passwords = byType(demo, PASSWORD).filter((p) => p.name.startsWith("key-keeper-"));
        assert.equal(passwords.length, 2);
        for (const p of passwords) {
            assert.ok(isSecretValue(p.outputs.result), `${p.name}.result must be secret`);
            const value = unwrapSecrets(p.outputs.result) as string;
            assert.equal(value.length, 48);
            assert.ok(value.startsWith(CANARY));
            assert.match(value.slice(CANARY.length), /^[A-Za-z0-9_.~-]+$/);
        }
        const [key] = byType(demo, PRIVATE_KEY);
        assert.equal(key.inputs.algorithm, "ECDSA");
        assert.equal(key.inputs.ecdsaCurve, "P256", "the provider default is P224: the curve must be set");
        const pub = crypto.createPublicKey(key.outputs.publicKeyPem as string);
        assert.equal(pub.asymmetricKeyDetails?.namedCurve, "prime256v1");
    });

    it("holds every secret-bearing value as a Pulumi secret", () => {
        for (const p of byType(demo, PASSWORD)) assert.ok(isSecretValue(p.outputs.result));
        const [key] = byType(demo, PRIVATE_KEY);
        for (const field of ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"]) assert.ok(isSecretValue(key.outputs[field]), field);
        for (const s of byType(demo, SECRET)) assert.ok(isSecretValue(s.outputs.stringData), `${s.name}.stringData`);
        assert.ok(isSecretValue(demo.outputs.keyKeeperPasswords));
        assert.ok(isSecretValue(demo.outputs.signingPrivateKeyPem));
    });

    it("lets no secret value appear in any plain output, input or rendered file", () => {
        // The sources of secret material: what providers generate as secrets (a Kubernetes Secret also holds
        // plain companions such as usernames, which are secret only by container).
        const secrets = demo.resources.filter((r) => !r.type.startsWith("kubernetes:")).flatMap((r) => secretLeaves(r.outputs))
            .filter((s) => s.length >= 16);
        assert.ok(secrets.some((s) => s.includes(CANARY)), "the canary was planted");
        assert.ok(secrets.some((s) => s.includes("PRIVATE KEY")), "the private key is among the secrets");
        const plain = [
            ...demo.resources.flatMap((r) => [...plainStrings(r.outputs), ...plainStrings(r.inputs)]),
            ...plainStrings(demo.outputs),
        ];
        const files = manifestsYaml(demo.resources) + JSON.stringify(maskForDisplay(demo.outputs));
        for (const secret of secrets) {
            // The PEM's base64 body is what would leak; compare a line of it.
            const needle = secret.includes("PRIVATE KEY") ? secret.split("\n")[1] : secret;
            assert.ok(!plain.some((p) => p.includes(needle)), "a secret appears in a plain value");
            assert.ok(!files.includes(needle), "a secret appears in a rendered file");
        }
        assert.ok(!files.includes(CANARY));
    });

    it("puts the bank's labels on every Kubernetes object", () => {
        const settings = validateStackConfig(validRaw("demo"), "demo");
        assert.ok(settings.ok);
        const expected = bankLabels(settings.settings);
        const objects = kubernetesObjects(demo.resources);
        assert.ok(objects.length >= 7);
        for (const o of objects) {
            for (const [k, v] of Object.entries(expected)) assert.equal(o.metadata.labels?.[k], v, `${o.kind}/${o.metadata.name} label ${k}`);
            assert.ok(o.metadata.labels?.["app.kubernetes.io/name"], `${o.kind}/${o.metadata.name} has a name label`);
        }
    });

    it("emits only objects valid against the Kubernetes API schema", async () => {
        const problems = (await Promise.all(plainObjects(demo.resources).map(schemaProblems))).flat();
        assert.deepEqual(problems, []);
    });

    it("isolates the namespace: restricted pod security, default deny, quota and limits", () => {
        const objects = kubernetesObjects(demo.resources);
        const ns = objects.find((o) => o.kind === "Namespace");
        assert.equal(ns?.metadata.name, "bank-demo-integrate");
        assert.equal(ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
        const deny = objects.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "default-deny-all");
        assert.deepEqual((deny?.spec as any).podSelector, {});
        assert.deepEqual((deny?.spec as any).policyTypes, ["Ingress", "Egress"]);
        assert.equal((deny?.spec as any).ingress, undefined);
        assert.equal((deny?.spec as any).egress, undefined);
        assert.ok(objects.some((o) => o.kind === "ResourceQuota"));
        assert.ok(objects.some((o) => o.kind === "LimitRange"));
        // Everything in the bank's namespace but the signing key and its reader Role and RoleBinding, which go
        // where DCM's signer runs (test/infra/least-privilege.test.ts).
        for (const o of objects.filter((x) => x.kind !== "Namespace")) {
            // ... and the ReferenceGrant and BackendTLSPolicy that let this bank's routes reach DCM's API, beside it.
            const signer = o.metadata.name === "jwt-signing-key-demo-integrate" || o.metadata.name === "jwt-signing-key-demo-integrate-reader"
                || (["ReferenceGrant", "BackendTLSPolicy"].includes(o.kind) && o.metadata.name === "bank-demo-integrate-dcm-api");
            assert.equal(o.metadata.namespace, signer ? "dcm-platform" : "bank-demo-integrate", `${o.kind}/${o.metadata.name}`);
        }
    });

    it("publishes a JWKS whose kid is the RFC 7638 thumbprint of the public key", () => {
        const [key] = byType(demo, PRIVATE_KEY);
        const jwk = crypto.createPublicKey(key.outputs.publicKeyPem as string).export({ format: "jwk" }) as Record<string, string>;
        const kid = rfc7638(jwk);
        assert.equal(demo.outputs.kid, kid);
        const published = demo.outputs.jwks as { keys: Record<string, string>[] };
        assert.equal(published.keys.length, 1);
        assert.deepEqual(published.keys[0], { ...jwk, kid, alg: "ES256", use: "sig" });
        assert.deepEqual(demo.outputs.publicJwk, published.keys[0]);
        const map = one(demo, CONFIG_MAP, "jwt-jwks");
        assert.deepEqual(JSON.parse((map.outputs.data as Record<string, string>)["jwks.json"]), published);
        assert.equal(demo.outputs.jwksUrl, "https://api-demo-integrate.dcm.example.com/.well-known/jwks.json");
    });

    it("gives DCM's signer the active private key, matching the published public key", () => {
        const signer = unwrapSecrets(one(demo, SECRET, "jwt-signer").outputs.stringData) as Record<string, string>;
        assert.deepEqual(Object.keys(signer).sort(), ["alg", "kid", "private-key.pem"]);
        assert.equal(signer.kid, demo.outputs.kid);
        const derived = crypto.createPublicKey(crypto.createPrivateKey(signer["private-key.pem"])).export({ type: "spki", format: "pem" });
        assert.equal(derived, demo.outputs.publicKeyPem);
        assert.equal(unwrapSecrets(demo.outputs.signingPrivateKeyPem), signer["private-key.pem"]);
    });

    it("stores exactly the two entity users in the key-keeper Secret, equal to the outputs", () => {
        const data = unwrapSecrets(one(demo, SECRET, "key-keeper-users").outputs.stringData) as Record<string, string>;
        assert.deepEqual(Object.keys(data).sort(), ENTITY_USERS.flatMap((u) => [`${u}.password`, `${u}.username`]).sort());
        const passwords = unwrapSecrets(demo.outputs.keyKeeperPasswords) as Record<string, string>;
        const usernames = demo.outputs.keyKeeperUsernames as Record<string, string>;
        assert.deepEqual(Object.keys(usernames).sort(), [...ENTITY_USERS].sort());
        for (const user of ENTITY_USERS) {
            assert.equal(data[`${user}.username`], usernames[user]);
            assert.equal(data[`${user}.password`], passwords[user]);
            assert.ok(passwords[user].length >= 32);
        }
        assert.notEqual(passwords.identification, passwords.processing);
    });

    it("guards the signing key and the key-keeper secrets against deletion and replacement", () => {
        const guarded = demo.resources.filter((r) => r.protect).map((r) => `${r.type} ${r.name}`).sort();
        assert.deepEqual(guarded, [
            `${SECRET} jwt-signer`,
            `${SECRET} key-keeper-users`,
            `${PASSWORD} key-keeper-identification`,
            `${PASSWORD} key-keeper-processing`,
            `${PASSWORD} kratos-secret-cipher`,
            `${PRIVATE_KEY} jwt-signing-key-a-keypair`,
        ].sort());
    });

    it("exports hosts, namespace, key material and usernames as the product defines", () => {
        assert.equal(demo.outputs.backofficeHost, "backoffice-demo-integrate.dcm.example.com");
        assert.equal(demo.outputs.apiHost, "api-demo-integrate.dcm.example.com");
        assert.equal(demo.outputs.namespaceName, "bank-demo-integrate");
        assert.match(demo.outputs.publicKeyPem as string, /^-----BEGIN PUBLIC KEY-----/);
        assert.equal(demo.outputs.signingAlgorithm, "ES256");
    });
});

describe("two banks side by side", () => {
    let demo: Rendered;
    let dnipro: Rendered;
    before(async () => { [demo, dnipro] = await Promise.all([render({ stack: "demo" }), render({ stack: "dnipro" })]); });

    it("share no object name, namespace or host", () => {
        const ids = (r: Rendered) => new Set(kubernetesObjects(r.resources).map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`));
        const a = ids(demo);
        const shared = [...ids(dnipro)].filter((id) => a.has(id));
        assert.deepEqual(shared, []);
        assert.notEqual(demo.outputs.namespaceName, dnipro.outputs.namespaceName);
        const hosts = (r: Rendered) => [r.outputs.backofficeHost, r.outputs.apiHost];
        assert.equal(new Set([...hosts(demo), ...hosts(dnipro)]).size, 4);
        assert.notEqual(demo.outputs.kid, dnipro.outputs.kid);
    });

    it("have the resource counts docs/devops.md's fleet example shows", () => {
        const guide = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "devops.md"), "utf8");
        for (const r of [demo, dnipro]) {
            const shown = new RegExp(`^${r.stack}\\s+ok\\s+[\\d.]+\\s+(\\d+) resources$`, "m").exec(guide)?.[1];
            assert.equal(Number(shown), r.resources.filter((x) => x.type !== "pulumi:pulumi:Stack").length, `${r.stack} in the fleet example`);
        }
    });

    it("publish both keys while rotating, and sign with the active one", () => {
        const keys = byType(dnipro, PRIVATE_KEY);
        assert.deepEqual(keys.map((k) => k.name).sort(), ["jwt-signing-key-a-keypair", "jwt-signing-key-b-keypair"]);
        const jwks = dnipro.outputs.jwks as { keys: { kid: string }[] };
        assert.equal(jwks.keys.length, 2);
        assert.equal(new Set(jwks.keys.map((k) => k.kid)).size, 2);
        assert.equal(jwks.keys[0].kid, dnipro.outputs.kid, "slot a is active");
        const signer = unwrapSecrets(one(dnipro, SECRET, "jwt-signer").outputs.stringData) as Record<string, string>;
        assert.equal(signer.kid, jwks.keys[0].kid);
    });
});

describe("signing key options", () => {
    it("switches the active key without touching either key resource", async () => {
        const switched = await render({ stack: "dnipro", overrides: { activeSigningKey: "b" } });
        const keys = byType(switched, PRIVATE_KEY).map((k) => k.urn).sort();
        assert.equal(keys.length, 2);
        const jwks = switched.outputs.jwks as { keys: { kid: string }[] };
        assert.equal(switched.outputs.kid, jwks.keys[1].kid);
        assert.ok(keys.every((urn) => /jwt-signing-key-[ab]-keypair$/.test(urn)), "slot names keep the keys' URNs stable");
    });

    it("makes an RSA key of the configured size with an RSA JWK", async () => {
        const rsa = await render({ stack: "demo", overrides: { signingKeys: [{ slot: "a", algorithm: "RS256", rsaBits: 3072 }] } });
        const [key] = byType(rsa, PRIVATE_KEY);
        assert.equal(key.inputs.algorithm, "RSA");
        assert.equal(key.inputs.rsaBits, 3072);
        assert.equal(crypto.createPublicKey(key.outputs.publicKeyPem as string).asymmetricKeyDetails?.modulusLength, 3072);
        const jwk = rsa.outputs.publicJwk as Record<string, string>;
        assert.equal(jwk.kty, "RSA");
        assert.equal(jwk.alg, "RS256");
        assert.equal(jwk.kid, rfc7638(jwk));
    });
});

describe("the skipAwait platform setting (an API server without nodes)", () => {
    it("puts pulumi.com/skipAwait on every Kubernetes object when true, on none by default, and changes nothing else", async () => {
        const [plain, skipping] = await Promise.all([render({ stack: "demo", seed: "skip-await" }), render({ stack: "demo", seed: "skip-await", overrides: { skipAwait: "true" } })]);
        const annotated = (r: Rendered) => kubernetesObjects(r.resources).filter((o) => (o.metadata.annotations as Record<string, string> | undefined)?.[SKIP_AWAIT_ANNOTATION] === "true");
        assert.deepEqual(annotated(plain), [], "the default deployment waits for readiness");
        const objects = kubernetesObjects(skipping.resources);
        assert.ok(objects.length > 30);
        assert.equal(annotated(skipping).length, objects.length, "every object, so a delete does not wait for a garbage collector either");
        // The same objects otherwise (one seed, so generated values agree): the annotation is all the setting adds.
        const without = (o: KubernetesObject) => {
            const annotations = Object.fromEntries(Object.entries(o.metadata.annotations ?? {}).filter(([k]) => k !== SKIP_AWAIT_ANNOTATION));
            return { ...o, metadata: { ...o.metadata, annotations } };
        };
        assert.deepEqual(objects.map(without), kubernetesObjects(plain.resources).map(without));
    });

    it("is refused unless true or false", () => {
        const result = validateStackConfig(validRaw("demo", { skipAwait: "yes" }), "demo");
        assert.ok(!result.ok);
        assert.deepEqual(result.problems.filter((p) => p.key === "skipAwait").map((p) => p.message), ["must be true or false; got 'yes'"]);
    });
});
