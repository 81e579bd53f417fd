/**
 * `pulumi up`, for real: the Pulumi CLI with its Node.js language host and the resource plugins at the SDKs'
 * exact versions (all from `npm run real:setup`), the project's program, a local file backend with a
 * passphrase, and a real kube-apiserver + etcd. The API server has no nodes and no controllers, so the stack
 * sets the platform setting skipAwait (infra/skip-await.ts): nothing else differs from a bank's deployment.
 *
 * The offline render (`npm run render`, on which policy, audit, checks and fleet render are built) is held
 * here to what the real engine creates.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { keySetOf } from "../../scripts/lib/audit/jwks";
import { stackFacts } from "../../scripts/lib/checks/outputs";
import { KubernetesObject, kubernetesObjects } from "../../scripts/lib/engine/manifests";
import { runOffline } from "../../scripts/lib/engine/offline-run";
import { unwrapSecrets } from "../../domain/secret-values";
import type { TempProject } from "../../support/onboarding/fixtures";
import { ControlPlane, kubectl } from "../../support/real/apiserver";
import { BankDeployment, deploymentAvailable, DEPLOYMENT_SKIP, realDeployment } from "../../support/real/deployment";
import type { PulumiSandbox } from "../../support/real/pulumi";
import { PROJECT_ROOT } from "../../domain/project";

const STACK = "demo";

/** A live object with what the API server sets (defaults, status, bookkeeping) reduced to what the program sent. */
function sentPart(rendered: unknown, live: unknown, at: string, out: string[]): void {
    if (Array.isArray(rendered)) {
        if (!Array.isArray(live) || live.length !== rendered.length) {
            out.push(`${at}: rendered ${JSON.stringify(rendered).slice(0, 200)}, live ${JSON.stringify(live).slice(0, 200)}`);
            return;
        }
        rendered.forEach((r, i) => sentPart(r, live[i], `${at}[${i}]`, out));
    } else if (typeof rendered === "object" && rendered !== null) {
        if (typeof live !== "object" || live === null) {
            out.push(`${at}: rendered an object, live ${JSON.stringify(live)}`);
            return;
        }
        for (const [k, v] of Object.entries(rendered)) sentPart(v, (live as Record<string, unknown>)[k], `${at}.${k}`, out);
    } else if (rendered !== live && !(typeof live === "string" && String(rendered) === live)) {
        out.push(`${at}: rendered ${JSON.stringify(rendered)}, live ${JSON.stringify(live)}`);
    }
}

const objectId = (o: { kind: string; metadata: { namespace?: string; name: string } }) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

describe("pulumi up of a bank, for real", { skip: deploymentAvailable ? false : DEPLOYMENT_SKIP }, () => {
    let d: BankDeployment;
    let cp: ControlPlane;
    let sandbox: PulumiSandbox;
    let temp: TempProject;
    const pulumi = (args: string[], timeoutMs?: number) => d.pulumi(args, timeoutMs);

    before(async () => {
        d = await realDeployment(STACK, "test-passphrase-not-a-secret");
        ({ cp, sandbox, temp } = d);
    });
    after(async () => {
        await d?.cleanup();
    });

    it("runs the CLI's own plugins at the SDKs' versions, none from PATH", async () => {
        const listed = await sandbox.pulumi(["plugin", "ls", "--json"], temp.dir);
        const plugins = (JSON.parse(listed) as { name: string; kind: string; version: string }[]).filter((p) => p.kind === "resource");
        const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8"));
        for (const name of ["kubernetes", "random", "tls"]) {
            assert.deepEqual(plugins.filter((p) => p.name === name).map((p) => p.version), [lock.packages[`node_modules/@pulumi/${name}`].version], name);
        }
    });

    it("deploys the stack with `pulumi up`", async () => {
        const out = await pulumi(["up", "--yes", "--skip-preview"]);
        assert.match(out, /Resources:\s*\n\s*\+ \d+ created/);
        assert.doesNotMatch(out, /errored|failed/);
    });

    it("creates in the API server exactly the objects `npm run render` renders, with the values it renders", async () => {
        const rendered = await runOffline({ projectDir: temp.dir, stack: STACK, typecheck: false });
        assert.ok(rendered.ok, !rendered.ok ? rendered.error : "");
        const objects = kubernetesObjects(rendered.resources);
        // What the engine recorded as created, from its own state.
        const state = JSON.parse(await pulumi(["stack", "export"])) as { deployment: { resources: { type: string; custom?: boolean; outputs?: KubernetesObject }[] } };
        const deployed = state.deployment.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.outputs?.kind).map((r) => objectId(r.outputs!));
        assert.deepEqual([...deployed].sort(), objects.map(objectId).sort(), "the same set of objects");

        const problems: string[] = [];
        for (const o of objects) {
            const got = await kubectl(cp, ["get", o.kind.toLowerCase(), o.metadata.name, ...(o.metadata.namespace ? ["-n", o.metadata.namespace] : []), "-o", "json"]);
            assert.equal(got.code, 0, `${objectId(o)}: ${got.stderr}`);
            const live = JSON.parse(got.stdout) as Record<string, unknown> & { metadata: KubernetesObject["metadata"] };
            // Labels and annotations both ways: no controller runs to add any, so each side has exactly the other's,
            // but for the one label the API server itself puts on every Namespace (its name, since v1.22).
            if (o.kind === "Namespace") delete live.metadata.labels?.["kubernetes.io/metadata.name"];
            for (const field of ["labels", "annotations"] as const) {
                if (JSON.stringify(live.metadata[field] ?? {}, Object.keys(live.metadata[field] ?? {}).sort()) !== JSON.stringify(o.metadata[field] ?? {}, Object.keys(o.metadata[field] ?? {}).sort())) {
                    problems.push(`${objectId(o)}.metadata.${field}: rendered ${JSON.stringify(o.metadata[field])}, live ${JSON.stringify(live.metadata[field])}`);
                }
            }
            const { stringData, data, ...rest } = o as KubernetesObject & { stringData?: Record<string, unknown>; data?: Record<string, unknown> };
            if (o.kind === "Secret") {
                // Generated key material differs by nature: the keys, not the values, are the program's.
                const liveKeys = Object.keys((live.data ?? {}) as object).sort();
                const renderedKeys = [...Object.keys(unwrapSecrets(stringData ?? {}) as object), ...Object.keys(unwrapSecrets(data ?? {}) as object)].sort();
                if (JSON.stringify(liveKeys) !== JSON.stringify(renderedKeys)) problems.push(`${objectId(o)}.data keys: rendered ${renderedKeys}, live ${liveKeys}`);
                sentPart(rest, live, objectId(o), problems);
            } else if (o.kind === "ConfigMap" && o.metadata.name === "jwks") {
                // The same kinds of key; the kids are of generated keys, so they differ.
                const keys = (v: unknown) => keySetOf(v)?.map((k) => `${k.kty}/${k.alg}/${k.use}`);
                const liveData = live.data as Record<string, string>;
                for (const [file, text] of Object.entries(data ?? {})) {
                    if (JSON.stringify(keys(text)) !== JSON.stringify(keys(liveData[file]))) problems.push(`${objectId(o)}.data.${file}: other keys`);
                }
                sentPart(rest, live, objectId(o), problems);
            } else {
                assert.ok(!JSON.stringify(o).includes('"$secret"') || o.kind === "Secret", `${objectId(o)} holds a secret outside a Secret`);
                sentPart(o, live, objectId(o), problems);
            }
        }
        assert.deepEqual(problems, []);
    });

    it("previews no change after the deployment, and a refresh finds none", async () => {
        await pulumi(["preview", "--expect-no-changes"]);
        await pulumi(["refresh", "--preview-only", "--expect-no-changes"]);
    });

    it("shows a change made with kubectl behind Pulumi's back as drift in the refresh", async () => {
        const changed = await kubectl(cp, ["patch", "configmap", "jwks-server-nginx", "-n", "bank-demo-integrate", "--type", "merge", "-p", JSON.stringify({ data: { "default.conf": "# changed by hand\n" } })]);
        assert.equal(changed.code, 0, changed.stderr);
        await assert.rejects(pulumi(["refresh", "--preview-only", "--expect-no-changes", "--diff"]), (e: Error) => {
            assert.match(e.message, /~ kubernetes:core\/v1:ConfigMap: \(update\)\s*\n\s*\[id=bank-demo-integrate\/jwks-server-nginx\]/);
            assert.match(e.message, /\+ # changed by hand/);
            assert.match(e.message, /~ 1 to update/);
            assert.match(e.message, /no changes were expected/i);
            return true;
        });
    });

    it("gives `npm run check` the outputs it reads only with --show-secrets, and keeps every secret output secret", async () => {
        const plain = JSON.parse(await pulumi(["stack", "output", "--json"])) as Record<string, unknown>;
        for (const key of ["keyKeeperPasswords", "signingPrivateKeyPem"]) assert.equal(plain[key], "[secret]", key);
        const shown = JSON.parse(await pulumi(["stack", "output", "--json", "--show-secrets"])) as Record<string, unknown>;
        const facts = stackFacts(shown, STACK);
        assert.equal(facts.alias, STACK);
        assert.match(String(shown.signingPrivateKeyPem), /BEGIN PRIVATE KEY/);
        // Each secret value, whole and in part, is nowhere in the plain outputs or the state file on disk.
        const secrets = [String(shown.signingPrivateKeyPem).split("\n")[1], ...Object.values(shown.keyKeeperPasswords as Record<string, string>)];
        const stateFiles = fs.readdirSync(path.join(sandbox.env.PULUMI_BACKEND_URL!.replace(/^file:\/\//, ""), ".pulumi", "stacks"), { recursive: true, withFileTypes: true })
            .filter((f) => f.isFile()).map((f) => fs.readFileSync(path.join(f.parentPath, f.name), "utf8"));
        assert.ok(stateFiles.length > 0);
        for (const secret of secrets) {
            assert.ok(secret.length >= 16);
            assert.ok(!JSON.stringify(plain).includes(secret), "a secret in `pulumi stack output --json`");
            for (const text of stateFiles) assert.ok(!text.includes(secret) && !text.includes(secret.slice(0, 12)), "a secret in plain text in the state file");
        }
    });
});
