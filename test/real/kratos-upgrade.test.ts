/**
 * Upgrade in place (issue 25): a production bank (dnipro: PostgreSQL, migrations Job) deployed on Kratos v1.3.1
 * (its database migrated by v1.3.1, the first employee created by the bootstrap Job, recovered, with a password
 * and TOTP, logged in) is moved to v26.2.0 the way `pulumi up` moves it: the new image replaces the migrations
 * Job, whose `kratos migrate sql up` runs against the same database, then the server starts on it. The
 * employee's identity, password and second factor must still work. Then the runbook's rollback: the backup
 * taken before the migrations restored, v1.3.1 serves the employee again. The v1.3.1 binary (`kratos-previous`)
 * is built for this test only.
 *
 * The bank on v1.3.1 is today's render with the v1.3.1 image and what the render of that release differed in:
 * `migrate sql` without `up` (v1.3.1 has no `up`), and no `secrets.pagination` (v1.3.1 does not know it).
 * The secrets Kratos already had (default, cookie, cipher) keep their values across the upgrade, as their
 * RandomPassword resources do in the stack's state.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { backofficeSessionAccepted } from "../../components/kratos-config";
import { missingComponents, realBinary } from "../../real/components";
import { KRATOS_PREVIOUS_VERSION, KRATOS_VERSION } from "../../real/recipes";
import { unwrapSecrets } from "../../domain/secret-values";
import type { FakeSecretApi } from "../../support/fake-secret-api";
import { renderedObject } from "../../support/real/pod";
import { KRATOS_COMPONENTS, kratosBinary, PREVIOUS_KRATOS_COMPONENT, renderStack, RenderedStack, RunningKratos, startKratos } from "../../support/real/kratos";
import { Backoffice, BootstrapWorld, bootstrapWorld, enrolTotp, loginWithTotp, recover, runBootstrap, setPassword, startBackoffice } from "../../support/real/officer";
import { Postgres, startPostgres } from "../../support/real/postgres";
import { run } from "../../support/real/process";

const missing = missingComponents([...KRATOS_COMPONENTS, PREVIOUS_KRATOS_COMPONENT, "postgres-bin", "nginx"]);
const skip = missing.length ? `${missing.join(", ")} not built: run \`npm run real:setup\`` : false;
/** The image banks ran before issue 25 (Pulumi.yaml's default until then). */
const PREVIOUS_IMAGE = `oryd/kratos:${KRATOS_PREVIOUS_VERSION}@sha256:fe2428f103a6240c064b6ea77d3088610865c55fcebccb30355857eccdc25b4b`;
const PASSWORD = `Officer-${crypto.randomBytes(12).toString("base64url")}`;
/** The server never sends mail here; the courier, which would, runs in its own Deployment. */
const SMTP = { COURIER_SMTP_CONNECTION_URI: "smtps://kratos:unused@127.0.0.1:465/" };

describe(`a bank on Kratos ${KRATOS_PREVIOUS_VERSION} upgraded in place to ${KRATOS_VERSION} by the stack's migrations Job`, { skip }, () => {
    let previous: RenderedStack;
    let current: RenderedStack;
    let postgres: Postgres;
    let kratos: RunningKratos | undefined;
    let backoffice: Backoffice | undefined;
    let world: BootstrapWorld;
    let api: FakeSecretApi;
    let work: string;
    let ca: string;
    let namespace: string;
    let email: string;
    /** SECRETS_DEFAULT, SECRETS_COOKIE and SECRETS_CIPHER of the bank: the same before and after. */
    let kept: Record<string, string>;
    let backup: string;
    let identityId = "";
    let totpSecret = "";

    const bootstrap = (stack: RenderedStack) => runBootstrap(stack, {
        namespace, kratosAdminUrl: kratos!.adminUrl, kubernetesApiUrl: api.url, serviceAccountDir: path.join(work, "sa"),
    });
    const lookup = async () => (await (await fetch(`${kratos!.adminUrl}/admin/identities?credentials_identifier=${encodeURIComponent(email)}`)).json()) as any[];
    /** A PostgreSQL client tool of the test's server (pg_dump, pg_restore, dropdb, createdb) as the database's owner. */
    async function postgresTool(tool: string, args: string[]): Promise<string> {
        const dsn = new URL(postgres.dsn);
        return run(path.join(realBinary("postgres-bin"), tool), ["-h", dsn.hostname, "-p", dsn.port, "-U", decodeURIComponent(dsn.username), ...args], {
            env: { PATH: process.env.PATH ?? "", PGPASSWORD: decodeURIComponent(dsn.password) },
        });
    }
    async function stopAll(): Promise<void> {
        await backoffice?.stop();
        await kratos?.stop();
        backoffice = undefined;
        kratos = undefined;
    }

    before(async () => {
        // The Ingresses nginx emulates: the legacy routing mode.
        previous = await renderStack("dnipro", { kratosImage: PREVIOUS_IMAGE, routing: "ingress-nginx" });
        current = await renderStack("dnipro", { routing: "ingress-nginx" });
        const secrets = (s: RenderedStack) => unwrapSecrets(s.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "kratos-secrets")!.outputs.stringData) as Record<string, string>;
        const old = secrets(previous);
        kept = { SECRETS_DEFAULT: old.secretsDefault, SECRETS_COOKIE: old.secretsCookie, SECRETS_CIPHER: old.secretsCipher };
        world = await bootstrapWorld(current, [current.backofficeHost]);
        ({ work, ca, namespace, email, api } = world);
        backup = path.join(work, "kratos-before-upgrade.dump");
        postgres = await startPostgres();
    });

    after(async () => {
        await stopAll();
        await world?.close();
        await postgres?.stop();
    });

    it(`${KRATOS_PREVIOUS_VERSION}: migrates the empty database with that release's command and serves the bank`, async () => {
        assert.equal(previous.kratosConfig.version, KRATOS_PREVIOUS_VERSION);
        const version = await run(kratosBinary(PREVIOUS_KRATOS_COMPONENT), ["version"], { env: { PATH: process.env.PATH ?? "" } });
        assert.match(version, new RegExp(`Version:\\s+${KRATOS_PREVIOUS_VERSION.replace(/\./g, "\\.")}`));
        kratos = await startKratos(previous, {
            binary: PREVIOUS_KRATOS_COMPONENT, dsn: postgres.dsn, env: { ...SMTP, ...kept },
            migrateArgs: (args) => args.filter((a) => a !== "up"), dropEnv: ["SECRETS_PAGINATION"],
        });
        assert.match(kratos.output(), /Successfully applied/i);
        backoffice = await startBackoffice(previous, kratos.publicPort, work, ca);
    });

    it(`${KRATOS_PREVIOUS_VERSION}: the bootstrap Job creates the first employee, who recovers, sets a password, enrols TOTP and logs in with both`, async () => {
        const r = await bootstrap(previous);
        assert.equal(r.code, 0, r.output);
        assert.equal(api.data.status, "recovery-pending", r.output);
        identityId = api.data.identity_id;
        const officer = backoffice!.browser();
        const settingsId = await recover(officer, previous.backofficeHost, api.data.recovery_link, api.data.recovery_code);
        await setPassword(officer, settingsId, PASSWORD);
        totpSecret = (await enrolTotp(officer)).secret;
        const whoami = await loginWithTotp(backoffice!.browser(), previous.backofficeHost, email, PASSWORD, totpSecret);
        assert.equal(whoami.authenticator_assurance_level, "aal2");
        assert.equal(whoami.identity.id, identityId);
        assert.equal((await bootstrap(previous)).code, 0);
        assert.deepEqual(api.data, { status: "password-set", email, identity_id: identityId });
    });

    it(`${KRATOS_VERSION}: the stack's migrations Job (\`migrate sql up\`) migrates that database, then the new server serves it`, async () => {
        await stopAll();
        // The runbook's step 1: a backup before the migrations, the rollback.
        await postgresTool("pg_dump", ["-Fc", "-f", backup, "kratos"]);
        const job = renderedObject(current.resources, "Job", "kratos-migrations").spec.template.spec.containers[0];
        assert.equal(job.image, renderedObject(current.resources, "Deployment", "kratos").spec.template.spec.containers[0].image, "the Job runs the server's image");
        assert.match(job.image, new RegExp(`^oryd/kratos:${KRATOS_VERSION.replace(/\./g, "\\.")}@sha256:`));
        kratos = await startKratos(current, { dsn: postgres.dsn, env: { ...SMTP, ...kept } });
        assert.match(kratos.output(), /Successfully applied migrations/);
        // Nothing left pending: what `migrate sql status` of the new release says about the database.
        const status = await run(kratosBinary(), ["migrate", "sql", "status", "-e"], { env: { PATH: process.env.PATH ?? "", DSN: postgres.dsn } });
        assert.doesNotMatch(status, /Pending/, status.slice(-2000));
        assert.match(status, /Applied/);
        backoffice = await startBackoffice(current, kratos.publicPort, work, ca);
    });

    it(`${KRATOS_VERSION}: the employee's identity, password and TOTP still work, and the bootstrap Job still sees the password`, async () => {
        const found = await lookup();
        assert.deepEqual(found.map((i) => i.id), [identityId], "the same identity, found by its email");
        const r = await bootstrap(current);
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, /already exists/);
        assert.deepEqual(api.data, { status: "password-set", email, identity_id: identityId });
        const officer = backoffice!.browser();
        const whoami = await loginWithTotp(officer, current.backofficeHost, email, PASSWORD, totpSecret);
        assert.equal(whoami.identity.id, identityId);
        assert.equal(whoami.authenticator_assurance_level, "aal2");
        assert.equal(backofficeSessionAccepted(200, whoami), true);
        // loginWithTotp saw Kratos ask for the TOTP code after the password: the factor survived. A wrong password is refused.
        const wrong = backoffice!.browser();
        const flow = await wrong.request("/.ory/self-service/login/browser");
        const first = await wrong.request(`/.ory/self-service/login?flow=${flow.json.id}`, {
            json: { method: "password", identifier: email, password: `${PASSWORD}x`, csrf_token: flow.json.ui.nodes.find((n: any) => n.attributes?.name === "csrf_token")?.attributes.value },
        });
        assert.equal(first.status, 400, "a wrong password was accepted after the upgrade");
    });

    it(`rollback: the database restored from the backup serves ${KRATOS_PREVIOUS_VERSION} again, with the employee's password and TOTP`, async () => {
        await stopAll();
        await postgresTool("dropdb", ["kratos"]);
        await postgresTool("createdb", ["kratos"]);
        await postgresTool("pg_restore", ["-d", "kratos", backup]);
        kratos = await startKratos(previous, {
            binary: PREVIOUS_KRATOS_COMPONENT, dsn: postgres.dsn, env: { ...SMTP, ...kept },
            migrateArgs: (args) => args.filter((a) => a !== "up"), dropEnv: ["SECRETS_PAGINATION"],
        });
        backoffice = await startBackoffice(previous, kratos.publicPort, work, ca);
        const whoami = await loginWithTotp(backoffice.browser(), previous.backofficeHost, email, PASSWORD, totpSecret);
        assert.equal(whoami.identity.id, identityId);
        assert.equal(whoami.authenticator_assurance_level, "aal2");
    });
});
