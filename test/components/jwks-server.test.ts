/** JwksServer built directly: the replicas guard it now shares with every workload, its budget and its nginx. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { JWKS_PATH, jwksNginxConf, JwksServer, JwksServerArgs } from "../../components/jwks-server";
import { Registered, setMocks, settle, throwsResourceError } from "../../support/pulumi-mocks";

let registered: Registered[];
before(async () => { registered = await setMocks(); });

const args = (replicas?: number): JwksServerArgs => ({
    namespace: "bank-demo-integrate", labels: {}, image: "nginxinc/nginx-unprivileged:1.0.0@sha256:" + "b".repeat(64), jwksConfigMapName: "jwks", replicas,
});

describe("JwksServer", () => {
    it("refuses replicas that are not a positive integer (only Frontend checked it before)", () => {
        for (const [i, replicas] of [0, 1.5].entries()) {
            throwsResourceError(() => new JwksServer(`bad-${i}`, args(replicas)), new RegExp(`^JwksServer bad-${i}: replicas must be a positive integer, got ${replicas}$`));
        }
    });

    it("serves the JWKS document and a health endpoint only, with a budget for two replicas", async () => {
        new JwksServer("jwks", args());
        await settle();
        assert.match(jwksNginxConf(), new RegExp(`location = ${JWKS_PATH.replace(/\./g, "\\.")} \\{`));
        assert.match(jwksNginxConf(), /location \/ \{ return 404; \}/);
        assert.equal(registered.find((r) => r.name === "jwks-pdb")!.inputs.spec.minAvailable, 1);
        assert.equal(registered.find((r) => r.name === "jwks-deployment")!.inputs.spec.template.spec.automountServiceAccountToken, false);
    });
});
