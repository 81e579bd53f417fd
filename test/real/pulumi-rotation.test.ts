/**
 * The signing-key rotation of docs/devops.md ("Rotating the signing key"), step by step with the real CLI on
 * a deployed bank: each step's `pulumi preview --json` shows exactly the documented creates, updates and
 * deletes, never a replacement of the active key, and a protected key cannot be deleted until unprotected.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import { realComponentsAvailable } from "../../real/components";
import { stackFilePath } from "../../scripts/lib/engine/stack-config";
import { kubectl } from "../../support/real/apiserver";
import { DEPLOYMENT_COMPONENTS, RealDeployment, startDeployment } from "../../support/real/deployment";

const available = realComponentsAvailable(DEPLOYMENT_COMPONENTS);
const STACK = "demo";
const NS = "bank-demo-integrate";

interface Step { op: string; urn: string }
/** The steps of a preview that change something, as "op name" with the resource's name (the URN's last part). */
function changes(previewJson: string): string[] {
    const steps = (JSON.parse(previewJson) as { steps?: Step[] }).steps ?? [];
    return steps.filter((s) => s.op !== "same" && !s.urn.includes("pulumi:pulumi:Stack")).map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort();
}

describe("rotating the signing key as docs/devops.md says, for real", { skip: available ? false : `needs ${DEPLOYMENT_COMPONENTS.join(", ")}: run \`npm run real:setup\`` }, () => {
    let real: RealDeployment;
    const pulumi = (args: string[]) => real.pulumi(STACK, args);
    /** What DevOps does with $EDITOR: sets keys of the stack file, keeping the rest. */
    const edit = (values: Record<string, unknown>) => {
        const file = stackFilePath(real.temp.project, STACK);
        const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
        for (const [key, value] of Object.entries(values)) doc.setIn(["config", `dcm-integration:${key}`], value);
        fs.writeFileSync(file, doc.toString());
    };
    const jwksKids = async () => {
        const got = await kubectl(real.cp, ["get", "configmap", "jwks", "-n", NS, "-o", "jsonpath={.data.jwks\\.json}"]);
        return (JSON.parse(got.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    };
    const signerKid = async () => (await pulumi(["stack", "output", "kid"])).trim();

    before(async () => {
        real = await startDeployment([STACK]);
        await real.initStack(STACK);
        await pulumi(["up", "--yes", "--skip-preview"]);
    });
    after(() => real?.stop());

    let kidA: string;
    let kidB: string;

    it("1. publishes slot b beside slot a: creates only slot b's key, updates only the JWKS", async () => {
        kidA = await signerKid();
        edit({ signingKeys: [{ slot: "a", algorithm: "ES256" }, { slot: "b", algorithm: "ES256" }] });
        const planned = changes(await pulumi(["preview", "--json"]));
        assert.deepEqual(planned, ["create jwt-signing-key-b", "create jwt-signing-key-b-keypair", "update jwt-jwks"]);
        await pulumi(["up", "--yes", "--skip-preview"]);
        const kids = await jwksKids();
        assert.equal(kids.length, 2);
        assert.equal(kids[0], kidA, "DCM still signs with slot a, and its key is unchanged");
        kidB = kids[1];
        assert.equal(await signerKid(), kidA);
    });

    it("2. signs with b: updates only the signer's Secret, creates and deletes nothing", async () => {
        edit({ activeSigningKey: "b" });
        const planned = changes(await pulumi(["preview", "--json"]));
        assert.deepEqual(planned, ["update jwt-signer"]);
        await pulumi(["up", "--yes", "--skip-preview"]);
        assert.equal(await signerKid(), kidB);
        const signer = await kubectl(real.cp, ["get", "secret", "jwt-signing-key-demo-integrate", "-n", "dcm-platform", "-o", "jsonpath={.data.kid}"]);
        assert.equal(Buffer.from(signer.stdout, "base64").toString(), kidB, "the signer's Secret names the new kid");
        assert.deepEqual(await jwksKids(), [kidA, kidB], "both keys stay published through the overlap window");
    });

    it("3. refuses to retire slot a while its key is protected: the preview fails naming it, and nothing changes", async () => {
        edit({ signingKeys: [{ slot: "b", algorithm: "ES256" }] });
        // The preview says so before anything changes.
        await assert.rejects(pulumi(["preview"]), (e: Error) => {
            assert.match(e.message, /jwt-signing-key-a-keypair/);
            assert.match(e.message, /protected/i);
            return true;
        });
        assert.deepEqual(await jwksKids(), [kidA, kidB]);
        assert.match(await pulumi(["stack", "--show-urns"]), /::jwt-signing-key-a-keypair/, "slot a's key is still in the stack");
    });

    it("3. retires slot a once its URNs are unprotected: deletes only slot a, updates only the JWKS", async () => {
        const urns = (await pulumi(["stack", "--show-urns"])).split("\n").flatMap((l) => /(urn:pulumi:\S*jwt-signing-key-a\S*)/.exec(l)?.[1] ?? []);
        assert.ok(urns.some((u) => u.endsWith("::jwt-signing-key-a-keypair")), urns.join("\n"));
        for (const urn of urns) await pulumi(["state", "unprotect", urn, "--yes"]);
        const planned = changes(await pulumi(["preview", "--json"]));
        assert.deepEqual(planned, ["delete jwt-signing-key-a", "delete jwt-signing-key-a-keypair", "update jwt-jwks"]);
        await pulumi(["up", "--yes", "--skip-preview"]);
        assert.deepEqual(await jwksKids(), [kidB]);
        assert.equal(await signerKid(), kidB);
    });
});
