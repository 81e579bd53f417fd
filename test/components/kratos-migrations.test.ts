/** KratosMigrations built directly: the DSN with DDL rights reaches only the Job, through a Secret. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { KRATOS_MIGRATIONS_ROLE, KratosMigrations } from "../../components/kratos-migrations";
import { Registered, setMocks, settle } from "../../support/pulumi-mocks";

let registered: Registered[];
before(async () => { registered = await setMocks(); });

describe("KratosMigrations", () => {
    it("runs the migrations as a Job whose DSN comes from a Secret, never a literal", async () => {
        const dsn = "postgres://ddl:Sup3rSecret@db:5432/kratos?sslmode=verify-full";
        const m = new KratosMigrations("mig", { namespace: "bank-demo-integrate", labels: {}, image: "oryd/kratos:v1.3.1@sha256:" + "d".repeat(64), dsn });
        await settle();
        assert.equal(m.podLabels["dcm/role"], KRATOS_MIGRATIONS_ROLE);
        const job = registered.find((r) => r.type === "kubernetes:batch/v1:Job")!;
        const text = JSON.stringify(job.inputs);
        assert.ok(!text.includes("Sup3rSecret"), "the DSN is not in the Job");
        assert.ok(registered.some((r) => r.type === "kubernetes:core/v1:Secret"), "a Secret holds it");
        assert.equal(job.inputs.spec.template.spec.automountServiceAccountToken, false);
    });
});
