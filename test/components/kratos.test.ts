/** Kratos built directly: secrets are required outside dev mode, replicas are checked, dev mode runs one pod. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Kratos, KratosArgs } from "../../components/kratos";
import { Registered, setMocks, settle, throwsResourceError } from "../../support/pulumi-mocks";

let registered: Registered[];
before(async () => { registered = await setMocks(); });

const args = (over: Partial<KratosArgs> = {}): KratosArgs => ({
    namespace: "bank-demo-integrate", labels: {}, image: "oryd/kratos:v1.3.1@sha256:" + "c".repeat(64), backofficeHost: "backoffice-demo-integrate.dcm.example.com",
    fromAddress: "no-reply@dcm.example.com", fromName: "Demo backoffice", ...over,
});
const secrets = { dsn: "postgres://k:p@db:5432/k?sslmode=verify-full", smtpUri: "smtps://u:p@mail:465", migrationDsn: "postgres://m:p@db:5432/k?sslmode=verify-full" };

describe("Kratos", () => {
    it("refuses to build outside dev mode without its secrets", () => {
        throwsResourceError(() => new Kratos("no-secrets", args({ devMode: false })), /^Kratos no-secrets: secrets \(dsn, smtpUri\) are required unless devMode$/);
    });

    it("refuses replicas that are not a positive integer", () => {
        throwsResourceError(() => new Kratos("bad-replicas", args({ secrets, replicas: 0 })), /^Kratos bad-replicas: replicas must be a positive integer, got 0$/);
    });

    it("in dev mode: one pod, recreated, migrated by an init container, no budget and no courier", async () => {
        new Kratos("dev", args({ devMode: true }));
        await settle();
        const server = registered.find((r) => r.name === "dev-server")!;
        assert.equal(server.inputs.spec.replicas, 1);
        assert.deepEqual(server.inputs.spec.strategy, { type: "Recreate" });
        assert.equal(server.inputs.spec.template.spec.initContainers[0].name, "kratos-migrate");
        assert.ok(!registered.some((r) => r.name === "dev-pdb" || r.name === "dev-courier"));
        assert.ok(registered.some((r) => r.name === "dev-public") && registered.some((r) => r.name === "dev-admin"));
    });

    it("outside dev mode: a budget, a singleton courier and a migrations Job", async () => {
        new Kratos("prod", args({ secrets }));
        await settle();
        assert.deepEqual(registered.find((r) => r.name === "prod-pdb")!.inputs.spec.maxUnavailable, 1);
        assert.equal(registered.find((r) => r.name === "prod-courier")!.inputs.spec.replicas, 1);
        assert.ok(registered.some((r) => r.type === "kubernetes:batch/v1:Job"));
    });
});
