/** Comparing two offline renders: regenerated random values are not changes; real changes are, field by field. */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { compareRenders } from "../../../scripts/lib/audit/compare-renders";
import { toHtml } from "../../../scripts/lib/audit/html";
import { toMarkdown } from "../../../scripts/lib/audit/markdown";
import { Masker } from "../../../scripts/lib/audit/masker";
import { thumbprint } from "../../../scripts/lib/audit/normalize-random";
import { assembleReport } from "../../../scripts/lib/audit/report";
import type { RecordedResource } from "../../../scripts/lib/engine/offline-runtime";

const CANARY = "CANARYRENDER";
const P = "urn:pulumi:demo::dcm-integration::pulumi:pulumi:Stack";

function rec(type: string, name: string, parent: string, inputs: Record<string, unknown>, outputs: Record<string, unknown>, protect = false): RecordedResource {
    return {
        urn: `${P}$${parent ? `${parent}$` : ""}${type}::${name}`, type, name, custom: true, inputs, outputs, protect,
        retainOnDelete: false, deleteBeforeReplace: false, ignoreChanges: [], replaceOnChanges: [], additionalSecretOutputs: [],
        dependencies: [], propertyDependencies: {},
    };
}

/** One render of a small bank, as the emulation makes it: fresh keys, passwords and auto-name suffixes every time. */
function render(curve: "prime256v1" | "secp384r1", extra: RecordedResource[] = []): RecordedResource[] {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: curve });
    const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const jwk = publicKey.export({ format: "jwk" }) as Record<string, string>;
    const kid = thumbprint(jwk);
    const password = `${CANARY}${crypto.randomBytes(12).toString("base64url")}`;
    const suffix = crypto.randomBytes(4).toString("hex");
    const ns = "bank-demo-integrate";
    const curveName = curve === "prime256v1" ? "P256" : "P384";
    return [
        rec("tls:index/privateKey:PrivateKey", "jwt-signing-key-a-keypair", "dcm:integration:JwtSigningKey", { algorithm: "ECDSA", ecdsaCurve: curveName },
            { algorithm: "ECDSA", ecdsaCurve: curveName, privateKeyPem: { $secret: privatePem }, publicKeyPem }, true),
        rec("random:index/randomPassword:RandomPassword", "key-keeper-identification", "dcm:integration:KeyKeeperSecrets", { length: 48 }, { length: 48, result: { $secret: password } }, true),
        rec("kubernetes:core/v1:Secret", "key-keeper-users", "dcm:integration:KeyKeeperSecrets", {},
            { kind: "Secret", metadata: { name: "key-keeper-users", namespace: ns, uid: crypto.randomUUID() }, stringData: { $secret: { "identification.password": password } } }, true),
        rec("kubernetes:core/v1:ConfigMap", "jwt-jwks", "dcm:integration:JwtKeySet", {},
            { kind: "ConfigMap", metadata: { name: "jwks", namespace: ns }, data: { "jwks.json": JSON.stringify({ keys: [{ ...jwk, kid, alg: "ES256", use: "sig" }] }, null, 2) } }),
        rec("kubernetes:core/v1:ConfigMap", "scratch", "", {}, { kind: "ConfigMap", metadata: { name: `scratch-${suffix}`, namespace: ns }, data: { password } }),
        ...extra,
    ];
}

describe("render comparison", () => {
    it("reports nothing when only generated values differ between two renders", () => {
        const changes = compareRenders(render("prime256v1"), render("prime256v1"), { bank: "demo", masker: new Masker() });
        assert.deepEqual(changes.filter((c) => c.op !== "same").map((c) => `${c.op} ${c.name}: ${JSON.stringify(c.fields)}`), []);
    });

    it("reports a changed key (replace, flagged critical) and what it changes (the JWKS), masking every secret", () => {
        const before = render("prime256v1", [rec("kubernetes:apps/v1:Deployment", "web", "", {}, { kind: "Deployment", metadata: { name: "web", namespace: "n" }, spec: { template: { spec: { containers: [{ name: "w", image: "r/web:1" }] } } } })]);
        const after = render("secp384r1", [rec("kubernetes:networking.k8s.io/v1:NetworkPolicy", "open", "", {}, { kind: "NetworkPolicy", metadata: { name: "open", namespace: "n" }, spec: { podSelector: {}, ingress: [{}] } })]);
        const changes = compareRenders(before, after, { bank: "demo", masker: new Masker() });
        const by = (name: string) => changes.find((c) => c.name === name)!;
        assert.equal(by("jwt-signing-key-a-keypair").op, "replace");
        assert.equal(by("jwt-signing-key-a-keypair").flags[0].kind, "signing-key");
        assert.deepEqual(by("jwt-signing-key-a-keypair").fields.find((f) => f.path === "ecdsaCurve"), { path: "ecdsaCurve", kind: "update", old: '"P256"', new: '"P384"', replace: true });
        assert.equal(by("jwt-signing-key-a-keypair").fields.find((f) => f.path === "privateKeyPem")?.secret, true);
        assert.equal(by("jwt-jwks").op, "update");
        assert.equal(by("key-keeper-identification").op, "same", "the password's generator did not change");
        assert.equal(by("web").op, "delete");
        assert.equal(by("open").op, "create");
        assert.equal(by("open").flags[0].kind, "access-widening");
        const report = assembleReport({ title: "t", source: "s", changes, diagnostics: [], policyRan: false });
        for (const text of [toMarkdown(report), toHtml(report)]) {
            assert.ok(!text.includes(CANARY), "no password");
            assert.ok(!text.includes("PRIVATE KEY"), "no private key");
        }
    });

    it("shows the public kid and usernames kept in a Secret wherever else they appear; masks the passwords beside them", () => {
        const ns = "bank-demo-integrate";
        const users = (password: string, kid: string, user: string) => [
            rec("kubernetes:core/v1:Secret", "key-keeper-users", "dcm:integration:KeyKeeperSecrets", {},
                { kind: "Secret", metadata: { name: "key-keeper-users", namespace: ns }, stringData: { $secret: { "identification.username": user, "identification.password": password, kid } } }),
            rec("kubernetes:core/v1:ConfigMap", "directory", "", {}, { kind: "ConfigMap", metadata: { name: "directory", namespace: ns }, data: { users: user, kid, note: `rotated ${password}` } }),
        ];
        const changes = compareRenders(
            users(`${CANARY}-old-password`, "kid-AAAAAAAAAAAAAAAA", "dcm-demo-identification"),
            users(`${CANARY}-new-password`, "kid-BBBBBBBBBBBBBBBB", "dcm-demo2-identification"), { bank: "demo", masker: new Masker() });
        const directory = changes.find((c) => c.name === "directory")!;
        assert.deepEqual(directory.fields.find((f) => f.path === "data.kid"), { path: "data.kid", kind: "update", old: '"kid-AAAAAAAAAAAAAAAA"', new: '"kid-BBBBBBBBBBBBBBBB"' });
        const note = directory.fields.find((f) => f.path === "data.note")!;
        assert.deepEqual([note.old, note.new], ['"rotated [secret]"', '"rotated [secret]"']);
        const report = assembleReport({ title: "t", source: "s", changes, diagnostics: [], policyRan: false });
        assert.match(toMarkdown(report), /\| data\.users \| update \| "dcm-demo-identification" \| "dcm-demo2-identification" \|/, "usernames are public");
        assert.ok(!toMarkdown(report).includes(CANARY));
    });

    it("reports protection removed with nothing else changed as Pulumi does: a `same` step, flagged", () => {
        const before = render("prime256v1");
        const after = before.map((r) => (r.name === "key-keeper-identification" ? { ...r, protect: false } : r));
        const changes = compareRenders(before, after, { bank: "demo", masker: new Masker() });
        const keeper = changes.find((c) => c.name === "key-keeper-identification")!;
        assert.deepEqual([keeper.op, keeper.protectBefore, keeper.protectAfter, keeper.flags[0]?.kind, keeper.flags[0]?.severity], ["same", true, false, "unprotected", "critical"]);
        const report = assembleReport({ title: "t", source: "s", changes, diagnostics: [], policyRan: false });
        assert.ok(report.banks[0].changes.some((c) => c.name === "key-keeper-identification"), "shown although `same`");
    });
});
