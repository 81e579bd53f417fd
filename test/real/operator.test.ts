/**
 * The fleet on the Pulumi Kubernetes Operator v2.9.0 against a real API server: the operator's CRDs installed from
 * its source, every bank's objects applied server-side by `fleet -- operator --apply`, our admission policy refusing
 * a Stack with a secret inline or destroyOnFinalize true, and the operator (built by real:setup, run out-of-cluster
 * with a kubeconfig) reconciling the Stacks.
 *
 * No kubelet runs here, so no pod ever starts: the operator gets as far as each Stack's Workspace and the
 * workspace's StatefulSet and Service (all admitted by the API server), and no update ever runs. The test stops there.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import { main as fleet } from "../../scripts/fleet";
import { operatorCrdDir } from "../../real/recipes";
import { missingComponents, realBinary } from "../../real/components";
import { listStacks } from "../../scripts/lib/engine/stack-config";
import { PROJECT } from "../../support/configs";
import { TEST_WORKSPACE_IMAGE, tempProject, TempProject } from "../../support/onboarding/fixtures";
import { CONTROL_PLANE_COMPONENTS, ControlPlane, kubectl, startControlPlane } from "../../support/real/apiserver";
import { RunningOperator, startOperator, waitForCrds } from "../../support/real/operator";
import { waitUntil } from "../../support/real/process";

const COMPONENTS = [...CONTROL_PLANE_COMPONENTS, "pulumi-kubernetes-operator"];
const missing = missingComponents(COMPONENTS);
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const NEXT_COMMIT = "89abcdef0123456789abcdef0123456789abcdef";
const NS = String(PROJECT.defaults.operatorNamespace);
const BANKS = listStacks(PROJECT);

describe("the fleet on the Pulumi Kubernetes Operator, for real", { skip: missing.length ? `needs ${missing.join(", ")}: run \`npm run real:setup\`` : false }, () => {
    let cp: ControlPlane;
    let operator: RunningOperator | undefined;
    let project: TempProject | undefined;
    const k = async (args: string[], stdin?: string) => {
        const r = await kubectl(cp, args, stdin);
        assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
    };
    const json = async (args: string[]) => JSON.parse(await k([...args, "-o", "json"]));
    const exists = async (args: string[]) => (await kubectl(cp, ["get", ...args, "-o", "name"])).code === 0;
    const applyFleet = async (commit: string) => {
        let out = "";
        let err = "";
        const code = await fleet(["operator", "--apply", "--project", project!.dir, "--commit", commit, "--kubectl", cp.kubectl], {
            env: { ...process.env, KUBECONFIG: cp.kubeconfig }, out: (t) => { out += t; }, err: (t) => { err += t; }, tty: false,
        });
        return { code, out, err };
    };

    before(async () => {
        // Every bank, with a workspace image pinned as DevOps pin it (`--apply` refuses Pulumi.yaml's placeholder digest).
        project = tempProject(BANKS, { operatorWorkspaceImage: TEST_WORKSPACE_IMAGE });
        cp = await startControlPlane();
        // DCM's platform namespace exists before any bank (docs/devops.md): the signer's Secrets and Roles go there.
        await k(["create", "namespace", "dcm-platform"]);
        await k(["apply", "--server-side", "-f", operatorCrdDir(realBinary("pulumi-kubernetes-operator"))]);
        await waitForCrds(cp);
    });
    after(async () => {
        await operator?.stop();
        await cp?.stop();
        project?.cleanup();
    });

    it("admits every bank's rendered objects by server-side apply (fleet -- operator --apply)", async () => {
        const r = await applyFleet(COMMIT);
        assert.equal(r.code, 0, `${r.out}\n${r.err}`);
        const stacks = await json(["get", "stacks.pulumi.com", "-n", NS, "--show-managed-fields"]);
        assert.deepEqual(stacks.items.map((s: { metadata: { name: string } }) => s.metadata.name).sort(), BANKS);
        for (const s of stacks.items) {
            assert.equal(s.spec.destroyOnFinalize, false);
            assert.equal(s.spec.commit, COMMIT);
            const managers = s.metadata.managedFields.map((f: { manager: string; operation: string }) => `${f.manager}/${f.operation}`);
            assert.ok(managers.includes("dcm-fleet/Apply"), managers.join());
        }
        // Applied again: server-side apply is idempotent (no conflict with ourselves).
        assert.equal((await applyFleet(COMMIT)).code, 0);
    });

    it("gives each workspace rights over its own bank only (the API server's RBAC says so)", async () => {
        const can = async (bank: string, args: string[]) => {
            const r = await kubectl(cp, ["auth", "can-i", ...args, `--as=system:serviceaccount:${NS}:pulumi-${bank}`]);
            return r.stdout.trim() || r.stderr.trim();
        };
        const [a, b] = BANKS;
        assert.equal(await can(a, ["create", "deployments.apps", "-n", `bank-${a}-integrate`]), "yes");
        assert.equal(await can(a, ["patch", `secrets/jwt-signing-key-${a}-integrate`, "-n", "dcm-platform"]), "yes");
        assert.equal(await can(a, ["create", "deployments.apps", "-n", `bank-${b}-integrate`]), "no");
        assert.equal(await can(a, ["get", `secrets/jwt-signing-key-${b}-integrate`, "-n", "dcm-platform"]), "no");
        assert.equal(await can(a, ["delete", `namespaces/bank-${b}-integrate`]), "no");
        assert.equal(await can(a, ["create", "clusterrolebindings"]), "no");
        assert.equal(await can(a, ["get", "secrets", "-n", NS]), "no", "not even the credentials Secret: the operator reads it");
    });

    it("refuses at admission a Stack with a secret inline or destroyOnFinalize: true (our policy)", async () => {
        const stack = (await json(["get", "stacks.pulumi.com", BANKS[0], "-n", NS]));
        const base = { apiVersion: "pulumi.com/v1", kind: "Stack", metadata: { name: "tampered", namespace: NS }, spec: structuredClone(stack.spec) };
        const cases: [string, (s: Record<string, any>) => void, RegExp][] = [
            ["destroyOnFinalize", (s) => { s.destroyOnFinalize = true; }, /destroyOnFinalize must be false/],
            ["literal passphrase", (s) => { s.envRefs.PULUMI_CONFIG_PASSPHRASE = { type: "Literal", literal: { value: "CANARY-not-a-passphrase" } }; }, /envRefs must reference Kubernetes Secrets only/],
            ["inline secrets", (s) => { s.secrets = { kratosDsn: "CANARY" }; }, /spec\.secrets and spec\.envs carry values inline/],
            ["literal secretsRef", (s) => { s.secretsRef = { kratosDsn: { type: "Literal", literal: { value: "CANARY" } } }; }, /secretsRef must reference Kubernetes Secrets only/],
        ];
        for (const [label, edit, rule] of cases) {
            const doc = structuredClone(base);
            edit(doc.spec);
            const r = await kubectl(cp, ["apply", "--server-side", "--field-manager=test", "-f", "-"], YAML.stringify(doc));
            assert.notEqual(r.code, 0, `${label} was admitted`);
            assert.match(r.stderr, /ValidatingAdmissionPolicy 'dcm-fleet-stacks'/, label);
            assert.match(r.stderr, rule, label);
        }
        assert.equal(await exists(["stacks.pulumi.com", "tampered", "-n", NS]), false);
    });

    it("runs the operator: each Stack gets its Workspace, and the workspace its StatefulSet and Service, admitted (no pod: no kubelet)", { timeout: 600_000 }, async () => {
        operator = await startOperator(cp);
        for (const bank of BANKS) {
            await waitUntil(`${bank}'s Workspace, StatefulSet and Service`, async () =>
                (await exists(["workspaces.auto.pulumi.com", bank, "-n", NS])) && (await exists(["statefulset", `${bank}-workspace`, "-n", NS])) && (await exists(["service", `${bank}-workspace`, "-n", NS])),
            operator.process, 300_000);
            const ws = await json(["get", "workspaces.auto.pulumi.com", bank, "-n", NS]);
            assert.equal(ws.spec.git.ref, COMMIT);
            assert.equal(ws.spec.serviceAccountName, `pulumi-${bank}`);
            const sts = await json(["get", "statefulset", `${bank}-workspace`, "-n", NS]);
            const pod = sts.spec.template.spec;
            const pulumi = pod.containers.find((c: { name: string }) => c.name === "pulumi");
            assert.equal(pulumi.resources.requests["ephemeral-storage"], "3Gi");
            assert.equal(pulumi.resources.limits["ephemeral-storage"], "4Gi");
            assert.equal(pod.securityContext.runAsNonRoot, true);
            assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
            for (const c of [...pod.initContainers, ...pod.containers]) {
                assert.equal(c.securityContext.allowPrivilegeEscalation, false, c.name);
                assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], c.name);
                assert.ok(c.resources.limits?.["ephemeral-storage"], `${c.name}: ephemeral-storage limit`);
            }
            assert.equal(pod.volumes.find((v: { name: string }) => v.name === "share").emptyDir.sizeLimit, "4Gi");
            // The pod the StatefulSet asks for would be admitted by the namespace's restricted Pod Security level:
            // a server-side dry run of the very template as a Pod.
            const asPod = { apiVersion: "v1", kind: "Pod", metadata: { name: `${bank}-psa-probe`, namespace: NS }, spec: pod };
            const dry = await kubectl(cp, ["create", "--dry-run=server", "-f", "-"], JSON.stringify(asPod));
            assert.equal(dry.code, 0, `${bank}: the workspace pod breaks the restricted standard: ${dry.stderr}`);
            assert.doesNotMatch(dry.stderr, /would violate PodSecurity/);
        }
        assert.deepEqual((await json(["get", "pods", "-n", NS])).items, [], "no pod: nothing here schedules or runs one");
    });

    it("restarting the operator midway leaves nothing stuck: a Stack changed while it was down is reconciled on start", { timeout: 600_000 }, async () => {
        assert.ok(operator, "the operator runs (previous test)");
        await operator.kill();
        assert.equal((await applyFleet(NEXT_COMMIT)).code, 0);
        operator = await startOperator(cp);
        for (const bank of BANKS) {
            await waitUntil(`${bank}'s Workspace at the new commit`, async () =>
                (await json(["get", "workspaces.auto.pulumi.com", bank, "-n", NS])).spec.git.ref === NEXT_COMMIT, operator.process, 300_000);
        }
        // Nothing holds a worker slot: no Update was left Progressing by the killed operator.
        const updates = (await json(["get", "updates.auto.pulumi.com", "-n", NS])).items as { status?: { conditions?: { type: string; status: string }[] } }[];
        assert.deepEqual(updates.filter((u) => u.status?.conditions?.some((c) => c.type === "Progressing" && c.status === "True")), []);
    });

    it("deleting a Stack destroys nothing: no destroy update, the bank's namespace and rights stay", { timeout: 300_000 }, async () => {
        const bank = BANKS[0];
        await k(["delete", "stacks.pulumi.com", bank, "-n", NS, "--wait=true", "--timeout=240s"]);
        assert.equal(await exists(["stacks.pulumi.com", bank, "-n", NS]), false);
        const updates = (await json(["get", "updates.auto.pulumi.com", "-n", NS])).items as { spec: { type: string } }[];
        assert.deepEqual(updates.filter((u) => u.spec.type === "destroy"), [], "no destroy update was created");
        assert.ok(await exists(["namespace", `bank-${bank}-integrate`]), "the bank's namespace is still there");
        assert.ok(await exists(["role", `dcm-fleet-${bank}`, "-n", `bank-${bank}-integrate`]));
        assert.ok(await exists(["stacks.pulumi.com", BANKS[1], "-n", NS]), "the other bank's Stack is untouched");
        assert.ok(fs.existsSync(path.join(cp.dir, "kubeconfig")));
    });
});
