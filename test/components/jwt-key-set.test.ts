/** JwtKeySet built directly: the active key must be published; the signer's Role reads one Secret only. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { JwtKeySet } from "../../components/jwt-key-set";
import { JwtSigningKey } from "../../components/jwt-signing-key";
import { Registered, setMocks, settle, throwsResourceError } from "../../support/pulumi-mocks";

let registered: Registered[];
const PUBLIC_PEM = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D7gS2XpJFbZiItSs3m9+9Ue6GnvHw/GW2ZZaVtszggXIw==\n-----END PUBLIC KEY-----\n";
before(async () => {
    registered = await setMocks({ "tls:index/privateKey:PrivateKey": (inputs) => ({ ...inputs, publicKeyPem: PUBLIC_PEM, privateKeyPemPkcs8: "private" }) });
});

const signer = { namespace: "dcm-platform", serviceAccount: "dcm-signer", secretName: "jwt-signing-key-demo-integrate" };

describe("JwtKeySet", () => {
    it("refuses an active key that is not among the published keys", () => {
        const a = new JwtSigningKey("key-a", { protect: false });
        const other = new JwtSigningKey("key-other", { protect: false });
        throwsResourceError(() => new JwtKeySet("set-bad", { namespace: "bank-demo-integrate", labels: {}, keys: [a], active: other, signer }), /^JwtKeySet set-bad: the active key is not among the published keys$/);
    });

    it("lets the signer's service account get its one Secret, and nothing else", async () => {
        const a = new JwtSigningKey("key-ok", { protect: false });
        new JwtKeySet("set", { namespace: "bank-demo-integrate", labels: {}, keys: [a], active: a, signer });
        await settle();
        const role = registered.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role" && r.name === "set-signer-reader")!;
        assert.deepEqual(role.inputs.rules, [{ apiGroups: [""], resources: ["secrets"], resourceNames: [signer.secretName], verbs: ["get"] }]);
    });
});
