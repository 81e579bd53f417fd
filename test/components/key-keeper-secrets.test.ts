/**
 * KeyKeeperSecrets built directly (as another program or a refactor of infra/index.ts would), under Pulumi's
 * mock runtime: the password rules hold on the component itself, not only in the stack's config validation.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { KeyKeeperSecrets } from "../../components/key-keeper-secrets";
import { ENTITY_USERS } from "../../domain/entity-users";
import { deriveNames } from "../../domain/names";
import { Registered, setMocks, settle, valueOf } from "../../support/pulumi-mocks";

let registered: Registered[] = [];

// A RandomPassword's result is as long as asked (DEFAULT_STATES); its content does not matter here.
before(async () => { registered = await setMocks(); });

const args = (passwordLength?: number) => ({ namespace: "bank-demo-integrate", labels: { "dcm/alias": "demo" }, usernames: deriveNames({ alias: "demo", assetCode: "UAH" }, { environment: "integrate", baseDomain: "dcm.example.com" }).usernames, passwordLength });
const passwordsOf = (name: string) => registered.filter((r) => r.type === "random:index/randomPassword:RandomPassword" && r.name.startsWith(`${name}-`));

describe("KeyKeeperSecrets", () => {
    for (const length of [31, 16, 0, -48, Number.NaN, 32.5]) {
        it(`refuses passwordLength ${length}, naming the component and the rule, and creates no password`, async () => {
            const name = `short-${String(length).replace(/\W/g, "_")}`;
            assert.throws(() => new KeyKeeperSecrets(name, args(length)), (e: Error) => {
                assert.ok(e instanceof pulumi.ResourceError, `a ResourceError, got ${e.name}`);
                assert.match(e.message, new RegExp(`^KeyKeeperSecrets ${name}: passwordLength must be a whole number of at least 32, got ${length}$`));
                return true;
            });
            await settle();
            assert.deepEqual(passwordsOf(name), []);
        });
    }

    it("accepts 32, the smallest length: one protected 32-character password per entity user", async () => {
        const kk = new KeyKeeperSecrets("min", args(32));
        const passwords = await valueOf(kk.passwords);
        assert.deepEqual(Object.keys(passwords).sort(), [...ENTITY_USERS].sort());
        for (const user of ENTITY_USERS) assert.equal(passwords[user].length, 32);
        await settle();
        assert.deepEqual(passwordsOf("min").map((r) => [r.name, r.inputs.length]).sort(), ENTITY_USERS.map((u) => [`min-${u}`, 32]).sort());
    });

    it("stores each user's username and password in one Opaque Secret, key-keeper-users", async () => {
        const kk = new KeyKeeperSecrets("stored", args());
        assert.equal(await valueOf(kk.secretName), "key-keeper-users");
        await settle();
        const secrets = registered.filter((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "stored-users");
        assert.equal(secrets.length, 1);
        const [secret] = secrets;
        assert.deepEqual(secret.inputs.metadata, { name: "key-keeper-users", namespace: "bank-demo-integrate", labels: { "dcm/alias": "demo" } });
        assert.equal(secret.inputs.type, "Opaque");
        // The passwords make the whole stringData a secret: the mock sees it in the engine's wire format.
        assert.equal(secret.inputs.stringData[specialSigKey], specialSecretSig, "stringData is a secret");
        const stringData = secret.inputs.stringData.value;
        assert.deepEqual(Object.keys(stringData).sort(), ENTITY_USERS.flatMap((u) => [`${u}.password`, `${u}.username`]).sort());
        assert.equal(stringData["processing.username"], "dcm-demo-processing");
        assert.equal(stringData["processing.password"].length, 48);
    });

    it("defaults to 48 characters and keeps the passwords secret", async () => {
        const kk = new KeyKeeperSecrets("default", args());
        assert.equal(await pulumi.isSecret(kk.passwords), true);
        await settle();
        assert.deepEqual(passwordsOf("default").map((r) => r.inputs.length), [48, 48]);
        assert.deepEqual(kk.usernames, { identification: "dcm-demo-identification", processing: "dcm-demo-processing" });
    });
});
