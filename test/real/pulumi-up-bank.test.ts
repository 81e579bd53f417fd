/**
 * A bank outside dev mode (stack dnipro: PostgreSQL and a mail relay, the Kratos migrations Job) deployed
 * with the real `pulumi up`, then retired as docs/devops.md's "Retiring a bank" says. Its three secrets are
 * set with `pulumi config set --secret`, each holding a canary: the deployment must deliver them to the
 * bank's Kubernetes Secrets and show them (whole, cut, base64, URL-encoded) nowhere else.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import { SECRET_KEYS } from "../../domain/config";
import { assertNoLeak } from "../../support/checks/leaks";
import { kubectl, startGarbageCollector } from "../../support/real/apiserver";
import { BankDeployment, deploymentAvailable, DEPLOYMENT_SKIP, realDeployment } from "../../support/real/deployment";

const STACK = "dnipro";
const SIGNER_NAMESPACE = "dcm-platform";

/** The canary of each secret: the part of its value only the secret holds (the password in the URL). */
// No key name in it: the key names are in every output, and the leak check looks for any 8 characters of a canary.
const canaries: Record<string, string> = Object.fromEntries(SECRET_KEYS.map((k, i) => [k, `Canary${i}-${crypto.randomBytes(12).toString("hex")}`]));
/** Values that pass secretValueProblem (verifying sslmode, port 5432; smtps on 465), each with its canary as the password. */
const secretValues: Record<string, string> = {
    kratosDsn: `postgres://kratos:${canaries.kratosDsn}@db.dniprobank.internal:5432/kratos?sslmode=verify-full`,
    kratosMigrationDsn: `postgres://kratos_ddl:${canaries.kratosMigrationDsn}@db.dniprobank.internal:5432/kratos?sslmode=verify-full`,
    kratosSmtpUri: `smtps://dcm-mailer:${canaries.kratosSmtpUri}@smtp.dniprobank.com.ua:465/`,
};

interface StateResource { urn: string; type: string; custom?: boolean; protect?: boolean; outputs?: { kind?: string; metadata?: { name: string; namespace?: string } } }

/** Every file under `dir` (recursively) with its text. */
function filesUnder(dir: string, skip: (p: string) => boolean = () => false): Record<string, string> {
    if (!fs.existsSync(dir)) return {};
    return Object.fromEntries(fs.readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((f) => f.isFile() && !skip(path.join(f.parentPath, f.name)))
        .map((f) => [path.join(f.parentPath, f.name), fs.readFileSync(path.join(f.parentPath, f.name), "latin1")]));
}

describe("pulumi up of a bank outside dev mode, and its retirement, for real", { skip: deploymentAvailable ? false : DEPLOYMENT_SKIP }, () => {
    let d: BankDeployment;
    /** Every CLI output of the run, by command, for the leak check. */
    const outputs: Record<string, string> = {};
    const pulumi = async (args: string[]) => {
        const out = await d.pulumi(args);
        outputs[`pulumi ${args.join(" ")}`] = out;
        return out;
    };
    // An emptied stack exports no `resources` at all.
    const state = async () => (JSON.parse(await pulumi(["stack", "export"])) as { deployment: { resources?: StateResource[] } }).deployment.resources ?? [];
    let namespace: string;
    /** Every namespaced kind the API server lists (secrets, configmaps, jobs.batch, ...). */
    const namespacedKinds = async () => {
        const kinds = await kubectl(d.cp, ["api-resources", "--namespaced", "--verbs=list", "-o", "name"]);
        assert.equal(kinds.code, 0, kinds.stderr);
        return kinds.stdout.trim().split("\n");
    };

    before(async () => {
        assert.ok(SECRET_KEYS.every((k) => secretValues[k]), "a value for every secret key");
        d = await realDeployment(STACK, "test-passphrase-not-a-secret");
        for (const key of SECRET_KEYS) await d.sandbox.setSecret(key, secretValues[key], d.temp.dir, STACK);
    });
    after(async () => {
        await d?.cleanup();
    });

    it("deploys the bank, its Kratos migrations Job included, with `pulumi up`", async (t) => {
        const started = Date.now();
        const out = await pulumi(["up", "--yes", "--skip-preview"]);
        t.diagnostic(`pulumi up of ${STACK}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        assert.match(out, /Resources:\s*\n\s*\+ \d+ created/);
        const resources = await state();
        const ns = resources.find((r) => r.type === "kubernetes:core/v1:Namespace");
        namespace = ns!.outputs!.metadata!.name;
        assert.ok(resources.some((r) => r.type === "kubernetes:batch/v1:Job" && r.outputs?.metadata?.name === "kratos-migrations"), "the migrations Job");
    });

    it("delivers each secret to the bank's Kubernetes Secrets: the server's DSN and mail URI, the migrations' DSN", async () => {
        const secret = async (name: string) => {
            const got = await kubectl(d.cp, ["get", "secret", name, "-n", namespace, "-o", "json"]);
            assert.equal(got.code, 0, got.stderr);
            const data = (JSON.parse(got.stdout) as { data: Record<string, string> }).data;
            return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
        };
        const kratos = await secret("kratos");
        const migrations = await secret("kratos-migrations");
        // Each value exactly as set, and only where its consumer reads it (the DDL role only in the Job's Secret).
        assert.equal(kratos.dsn, secretValues.kratosDsn);
        assert.equal(kratos.smtpConnectionUri, secretValues.kratosSmtpUri);
        assert.equal(migrations.dsn, secretValues.kratosMigrationDsn);
        assert.ok(!JSON.stringify(kratos).includes(canaries.kratosMigrationDsn), "the DDL role's DSN in the server's Secret");
        // Nowhere else in the cluster: a secret Output put into a ConfigMap stays encrypted in the state, so only
        // the API server shows that leak.
        const others = (await namespacedKinds()).filter((k) => k !== "secrets");
        const live = await kubectl(d.cp, ["get", others.join(","), "-A", "-o", "json"]);
        assert.equal(live.code, 0, live.stderr);
        assertNoLeak(Object.values(canaries), { "the API server's objects other than Secrets": live.stdout });
    });

    it("shows the secrets in no CLI output, no log, no state file, and only encrypted in the stack file", async () => {
        await pulumi(["preview", "--diff"]);
        await pulumi(["stack", "output", "--json"]);
        await pulumi(["stack", "export"]);
        const stackFile = path.join(d.temp.dir, "stacks", `Pulumi.${STACK}.yaml`);
        const config = (YAML.parse(fs.readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> }).config;
        for (const key of SECRET_KEYS) {
            const value = config[`dcm-integration:${key}`] as { secure?: unknown };
            assert.deepEqual(Object.keys(value ?? {}), ["secure"], `${key} as secure: only`);
            assert.match(String(value.secure), /^v1:/, key);
        }
        const home = d.sandbox.env.PULUMI_HOME!;
        const channels: Record<string, string> = {
            ...outputs,
            [stackFile]: fs.readFileSync(stackFile, "utf8"),
            ...filesUnder(d.sandbox.env.PULUMI_BACKEND_URL!.replace(/^file:\/\//, "")),
            // The plugin binaries are what real:setup built, not written by the run.
            ...filesUnder(home, (p) => p.startsWith(path.join(home, "plugins"))),
        };
        assert.ok(Object.keys(channels).some((c) => c.endsWith(`${STACK}.json`)), "the state file is among the files read");
        assertNoLeak(Object.values(canaries), channels);
    });

    it("refuses `pulumi destroy` while the keys and passwords are protected, naming them, and deletes nothing", async () => {
        const before = await state();
        const protectedUrns = new Set(before.filter((r) => r.protect).map((r) => r.urn));
        // The signing key pair, the key-keeper passwords and their Secret, the signer's Secret, Kratos' cipher secret.
        assert.ok(protectedUrns.size >= 6, [...protectedUrns].join("\n"));
        await assert.rejects(pulumi(["destroy", "--yes"]), (e: Error) => {
            outputs["pulumi destroy (refused)"] = e.message;
            // The preview stops at the first protected resource of each dependency chain: the Secrets holding the
            // keys and passwords, and Kratos' cipher secret (the key pair and passwords come after them).
            const named = [...e.message.matchAll(/pulumi state unprotect '([^']+)'/g)].map((m) => m[1]);
            for (const urn of named) assert.ok(protectedUrns.has(urn), `${urn} named but not protected`);
            for (const name of ["jwt-signer", "key-keeper-users", "kratos-secret-cipher"]) assert.ok(named.some((u) => u.endsWith(`::${name}`)), `names ${name}`);
            assert.match(e.message, /cannot be deleted\s+because it is protected/);
            return true;
        });
        // Refused in the preview: nothing deleted, neither in the state nor in the API server.
        assert.deepEqual((await state()).map((r) => r.urn).sort(), before.map((r) => r.urn).sort());
        for (const [name, ns] of [["key-keeper-users", namespace], ["kratos", namespace], [`jwt-signing-key-${STACK}-integrate`, SIGNER_NAMESPACE]]) {
            const got = await kubectl(d.cp, ["get", "secret", name, "-n", ns]);
            assert.equal(got.code, 0, `${ns}/${name} kept: ${got.stderr}`);
        }
    });

    it("removes every object of the bank from the API server after `pulumi state unprotect --all` and `pulumi destroy`", async () => {
        await pulumi(["state", "unprotect", "--all", "--yes"]);
        // Kubernetes deletes the provider's objects in the foreground: the garbage collector ends each deletion.
        const gc = startGarbageCollector(d.cp);
        try {
            await pulumi(["destroy", "--yes"]);
        } finally {
            await gc.stop();
        }
        assert.deepEqual((await state()).filter((r) => r.custom), [], "nothing left in the state");
        // Every namespaced kind the API server lists, in the bank's namespace: nothing (no controller runs to
        // create a default ServiceAccount or kube-root-ca.crt, so the program's objects are all there could be).
        const listed = await kubectl(d.cp, ["get", (await namespacedKinds()).join(","), "-n", namespace, "-o", "name"]);
        assert.equal(listed.code, 0, listed.stderr);
        assert.equal(listed.stdout.trim(), "", "objects left in the bank namespace");
        const signer = await kubectl(d.cp, ["get", "secret", `jwt-signing-key-${STACK}-integrate`, "-n", SIGNER_NAMESPACE]);
        assert.match(signer.stderr, /NotFound/, "the signer's Secret in dcm-platform is gone");
        // No namespace controller runs here, so the deleted namespace stays Terminating (its finalizer
        // `kubernetes` is never removed): deleted means deletionTimestamp set, or already gone.
        const ns = await kubectl(d.cp, ["get", "namespace", namespace, "-o", "json"]);
        if (ns.code === 0) assert.ok((JSON.parse(ns.stdout) as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp, "namespace being deleted");
        else assert.match(ns.stderr, /NotFound/);
        assertNoLeak(Object.values(canaries), outputs);
    });
});
