/**
 * `fleet -- operator`: every bank's Stack and workspace RBAC, as properties over every bank in stacks/ (rendered
 * offline), the platform settings' validation, and our policy that refuses an inline secret or a destroying finalizer.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as YAML from "yaml";
import { validateStackConfig } from "../../../infra/validation";
import { main } from "../../../scripts/fleet";
import { OperatorBank, operatorObjects, PolicyRule, resourceOf, STACK_NAME_MAX, WORKSPACE_RESOURCES } from "../../../scripts/lib/engine/operator";
import { bankSettings, renderOperatorFleet, OperatorFleet } from "../../../scripts/lib/engine/operator-render";
import { operatorPolicyViolations } from "../../../scripts/lib/engine/operator-policy";
import { KubernetesObject, kubernetesObjects } from "../../../scripts/lib/engine/manifests";
import { listStacks, readProject } from "../../../scripts/lib/engine/stack-config";
import { PROJECT, validRaw } from "../../../support/configs";
import { render } from "../../../support/render";
import { TEST_WORKSPACE_IMAGE, tempProject } from "../../../support/onboarding/fixtures";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const RBAC = "rbac.authorization.k8s.io/v1";

/** Whether the rules let `verb` on an object of this group/resource/name. */
function allows(rules: readonly PolicyRule[], group: string, resource: string, name: string, verb: string): boolean {
    return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && (!r.resourceNames || r.resourceNames.includes(name)));
}
const rulesOf = (bank: OperatorBank, kind: "Role" | "ClusterRole", namespace?: string): PolicyRule[] =>
    bank.objects.filter((o) => o.kind === kind && o.metadata.namespace === namespace).flatMap((o) => (o as unknown as { rules: PolicyRule[] }).rules);
const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");
const stackOf = (bank: OperatorBank) => bank.objects.find((o) => o.kind === "Stack")! as KubernetesObject & { spec: Record<string, any> };

describe("fleet -- operator: every bank's objects", () => {
    const aliases = listStacks(PROJECT);
    let fleet: OperatorFleet;
    const renders = new Map<string, KubernetesObject[]>();
    before(async () => {
        fleet = await renderOperatorFleet(PROJECT, aliases, { commit: COMMIT });
        for (const a of aliases) renders.set(a, kubernetesObjects((await render({ stack: a })).resources));
    });

    it("has one Stack per bank, named by its alias within the operator's 42 characters, at the pinned commit", () => {
        assert.deepEqual(fleet.banks.map((b) => b.alias), aliases);
        for (const bank of fleet.banks) {
            const stack = stackOf(bank);
            assert.equal(stack.apiVersion, "pulumi.com/v1");
            assert.equal(stack.metadata.name, bank.alias);
            assert.ok(stack.metadata.name.length <= STACK_NAME_MAX);
            assert.equal(stack.metadata.namespace, fleet.operator.namespace);
            assert.equal(stack.spec.stack, bank.alias);
            assert.equal(stack.spec.commit, COMMIT);
            assert.equal(stack.spec.projectRepo, fleet.operator.programRepo);
            assert.equal(stack.spec.branch, undefined, "a commit, never a moving branch");
        }
    });

    it("keeps state in the shared backend, secrets only by reference to the credentials Secret, and never destroys", () => {
        for (const bank of fleet.banks) {
            const spec = stackOf(bank).spec;
            assert.equal(spec.backend, fleet.operator.backend);
            assert.doesNotMatch(spec.backend, /^file:/);
            assert.ok(Object.keys(spec.envRefs).includes("PULUMI_CONFIG_PASSPHRASE"));
            for (const [name, ref] of Object.entries(spec.envRefs as Record<string, any>)) {
                assert.deepEqual(ref, { type: "Secret", secret: { name: fleet.operator.credentialsSecret, key: name } }, name);
            }
            for (const field of ["secrets", "envs", "envSecrets", "config", "secretsRef", "gitAuth"]) assert.equal(spec[field], undefined, field);
            assert.equal(spec.refresh, true);
            assert.equal(spec.expectNoRefreshChanges, true);
            assert.equal(spec.resyncFrequencySeconds, fleet.operator.resyncSeconds);
            assert.equal(spec.destroyOnFinalize, false);
        }
    });

    it("runs each workspace restricted, with requests and limits of cpu, memory and ephemeral storage", () => {
        for (const bank of fleet.banks) {
            const ws = stackOf(bank).spec.workspaceTemplate.spec;
            assert.equal(ws.securityProfile, "restricted");
            assert.match(ws.image, /^[^@]+:[^@:]+@sha256:[0-9a-f]{64}$/);
            for (const kind of ["requests", "limits"]) for (const r of ["cpu", "memory", "ephemeral-storage"]) assert.ok(ws.resources[kind][r], `${kind}.${r}`);
            // Issue #1308: TypeScript workspaces use 1.3-2.4 GiB of ephemeral storage; the request covers the top of that.
            assert.ok(parseFloat(WORKSPACE_RESOURCES.requests["ephemeral-storage"]) >= 2.4);
            for (const c of ws.podTemplate.spec.initContainers) for (const kind of ["requests", "limits"]) assert.ok(c.resources[kind]["ephemeral-storage"], `${c.name} ${kind}`);
        }
    });

    it("gives each bank its own ServiceAccount with rights to exactly what its render holds: every object, no wildcard, no other namespace", () => {
        const accounts = new Set<string>();
        for (const bank of fleet.banks) {
            const spec = stackOf(bank).spec;
            const sa = bank.objects.find((o) => o.kind === "ServiceAccount")!;
            assert.equal(spec.serviceAccountName, sa.metadata.name);
            accounts.add(sa.metadata.name);
            const bindings = bank.objects.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding");
            for (const b of bindings) {
                assert.deepEqual((b as any).subjects, [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: fleet.operator.namespace }]);
                assert.notEqual((b as any).roleRef.name, "cluster-admin");
            }
            const rendered = renders.get(bank.alias)!;
            const namespaces = new Set(rendered.map((o) => o.metadata.namespace).filter(Boolean));
            for (const o of rendered) {
                const rules = rulesOf(bank, o.metadata.namespace ? "Role" : "ClusterRole", o.metadata.namespace);
                for (const verb of ["get", "create", "patch", "delete"]) {
                    assert.ok(allows(rules, groupOf(o.apiVersion), resourceOf(o.kind), o.metadata.name, verb), `${bank.alias}: ${verb} ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
                }
            }
            // Roles only where the render has objects; outside the bank's namespace only by name (plus create).
            const roleNamespaces = bank.objects.filter((o) => o.kind === "Role").map((o) => o.metadata.namespace);
            assert.deepEqual(new Set(roleNamespaces), namespaces);
            const all = bank.objects.filter((o) => o.kind === "Role" || o.kind === "ClusterRole").flatMap((o) => (o as any).rules as PolicyRule[]);
            assert.ok(all.every((r) => ![...r.apiGroups, ...r.resources, ...r.verbs].includes("*")));
            for (const o of bank.objects.filter((x) => (x.kind === "Role" && x.metadata.namespace !== `bank-${bank.alias}-integrate`) || x.kind === "ClusterRole")) {
                for (const r of (o as any).rules as PolicyRule[]) assert.ok(r.resourceNames || r.verbs.join() === "create", `${o.kind} ${o.metadata.namespace}: ${JSON.stringify(r)}`);
            }
            // Kubernetes refuses a Role granting what its creator does not hold: the workspace holds every right the bank's Roles grant.
            for (const role of rendered.filter((o) => o.kind === "Role")) {
                for (const r of (role as any).rules as PolicyRule[]) {
                    for (const name of r.resourceNames ?? ["any"]) for (const verb of r.verbs) {
                        assert.ok(allows(rulesOf(bank, "Role", role.metadata.namespace), r.apiGroups[0], r.resources[0], name, verb), `${bank.alias}: the bank's Role ${role.metadata.name} grants ${verb} ${r.resources[0]}/${name}`);
                    }
                }
            }
        }
        assert.equal(accounts.size, fleet.banks.length, "one ServiceAccount per bank");
    });

    it("passes our own policy", () => {
        assert.deepEqual(operatorPolicyViolations([...fleet.platform, ...fleet.banks.flatMap((b) => b.objects)]), []);
    });
});

describe("the operator's platform settings", () => {
    it("are validated with the rest of the platform config: every problem at once, naming the field and the rule", () => {
        const result = validateStackConfig(validRaw("demo", {
            operatorBackend: "file:///home/devops/.pulumi", operatorResyncSeconds: "30", operatorNamespace: "Fleet_NS",
            operatorProgramRepo: "http://git.example/repo.git", operatorWorkspaceImage: "pulumi/pulumi:latest", tlsMode: "none",
        }), "demo");
        assert.ok(!result.ok);
        const byKey = Object.fromEntries(result.problems.map((p) => [p.key, p.message]));
        assert.match(byKey.operatorBackend, /shared backend.*file:\/\/ backend/);
        assert.match(byKey.operatorResyncSeconds, /from 60 .* to 86400; got '30'/);
        assert.match(byKey.operatorNamespace, /DNS label/);
        assert.match(byKey.operatorProgramRepo, /https/);
        assert.ok(byKey.operatorWorkspaceImage);
        assert.ok(byKey.tlsMode, "the other platform settings' problems in the same round");
    });

    it("refuse credentials in the backend URL and accept the shared kinds", () => {
        const bad = validateStackConfig(validRaw("demo", { operatorBackend: "s3://AKIA:secret@bucket" }), "demo");
        assert.ok(!bad.ok && bad.problems.some((p) => p.key === "operatorBackend" && /credentials/.test(p.message) && !p.message.includes("secret@")));
        for (const backend of ["s3://b?region=eu-central-1", "gs://b", "azblob://c", "https://api.pulumi.com"]) {
            assert.ok(validateStackConfig(validRaw("demo", { operatorBackend: backend }), "demo").ok, backend);
        }
    });

    it("refuse a bank whose alias is too long for a Stack object's name", () => {
        const temp = tempProject(["demo"]);
        try {
            const doc = YAML.parseDocument(fs.readFileSync(path.join(temp.dir, "Pulumi.yaml"), "utf8"));
            (doc.getIn(["config", "environment"]) as any).set("default", "qa");
            fs.writeFileSync(path.join(temp.dir, "Pulumi.yaml"), doc.toString());
            const alias = `b${"a".repeat(STACK_NAME_MAX)}`;
            const text = fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.demo.yaml"), "utf8").replace(/dcm-integration:alias: demo/, `dcm-integration:alias: ${alias}`);
            fs.writeFileSync(path.join(temp.dir, "stacks", `Pulumi.${alias}.yaml`), text);
            const settings = bankSettings(readProject(temp.dir), alias);
            assert.ok(!settings.ok);
            assert.match(settings.message, new RegExp(`dcm-integration:alias is ${alias.length} characters: a Stack object's name .* at most 42`));
        } finally {
            temp.cleanup();
        }
    });

    it("refuse a pinned program that is not a full commit id", () => {
        const settings = bankSettings(PROJECT, "demo");
        assert.ok(settings.ok);
        assert.throws(() => operatorObjects(settings.settings, [], { commit: "main" }), /full 40-hex commit/);
    });
});


describe("our policy on the operator's objects", () => {
    let good: KubernetesObject[];
    before(async () => {
        const settings = bankSettings(PROJECT, "demo");
        assert.ok(settings.ok);
        good = operatorObjects(settings.settings, kubernetesObjects((await render({ stack: "demo" })).resources), { commit: COMMIT }).objects;
    });
    const withStack = (edit: (spec: Record<string, any>) => void) =>
        good.map((o) => (o.kind === "Stack" ? (() => { const c = structuredClone(o) as any; edit(c.spec); return c; })() : o));

    it("refuses a Stack with a secret inline (a Literal reference, a deprecated inline field, secret config), never quoting it", () => {
        const canary = "CANARY-passphrase-7f3a";
        const cases: [string, (s: Record<string, any>) => void, RegExp][] = [
            ["envRefs literal", (s) => { s.envRefs.PULUMI_CONFIG_PASSPHRASE = { type: "Literal", literal: { value: canary } }; }, /spec\.envRefs\.PULUMI_CONFIG_PASSPHRASE must reference a Kubernetes Secret/],
            ["secretsRef literal", (s) => { s.secretsRef = { kratosDsn: { type: "Literal", literal: { value: canary } } }; }, /spec\.secretsRef\.kratosDsn must reference/],
            ["secrets field", (s) => { s.secrets = { kratosDsn: canary }; }, /spec\.secrets must not be set/],
            ["secret config", (s) => { s.config = { kratosDsn: { secret: canary } }; }, /spec\.config\.kratosDsn must not hold a secret inline/],
            ["env ref", (s) => { s.envRefs.AWS_ACCESS_KEY_ID = { type: "Env", env: { name: "X" } }; }, /spec\.envRefs\.AWS_ACCESS_KEY_ID/],
        ];
        for (const [label, edit, rule] of cases) {
            const v = operatorPolicyViolations(withStack(edit));
            assert.equal(v.length, 1, `${label}: ${JSON.stringify(v)}`);
            assert.match(`${v[0].field} ${v[0].rule}`, rule, label);
            assert.ok(!JSON.stringify(v).includes(canary), `${label}: the value was quoted`);
        }
    });

    it("refuses destroyOnFinalize true (or left out), a non-restricted workspace, unbounded ephemeral storage, cluster-admin", () => {
        assert.match(operatorPolicyViolations(withStack((s) => { s.destroyOnFinalize = true; }))[0].field, /spec\.destroyOnFinalize/);
        assert.match(operatorPolicyViolations(withStack((s) => { delete s.destroyOnFinalize; }))[0].field, /spec\.destroyOnFinalize/);
        assert.match(operatorPolicyViolations(withStack((s) => { s.workspaceTemplate.spec.securityProfile = "baseline"; }))[0].field, /securityProfile/);
        assert.match(operatorPolicyViolations(withStack((s) => { delete s.workspaceTemplate.spec.resources.limits["ephemeral-storage"]; }))[0].field, /limits\.ephemeral-storage/);
        const admin = good.map((o) => (o.kind === "ClusterRoleBinding" ? { ...o, roleRef: { apiGroup: RBAC.split("/")[0], kind: "ClusterRole", name: "cluster-admin" } } : o));
        assert.match(operatorPolicyViolations(admin)[0].rule, /cluster-admin/);
    });

    it("makes fleet -- operator write nothing when a bank's settings are refused (exit 1, every problem named)", async () => {
        const temp = tempProject(["demo", "dnipro"]);
        try {
            const doc = YAML.parseDocument(fs.readFileSync(path.join(temp.dir, "Pulumi.yaml"), "utf8"));
            (doc.getIn(["config", "operatorBackend"]) as any).set("default", "file:///tmp/state");
            fs.writeFileSync(path.join(temp.dir, "Pulumi.yaml"), doc.toString());
            const outDir = path.join(temp.dir, "operator");
            let err = "";
            const code = await main(["operator", "--project", temp.dir, "--out", outDir, "--commit", COMMIT], { out: () => undefined, err: (t) => { err += t; }, tty: false });
            assert.equal(code, 1, err);
            assert.match(err, /stack 'demo'[\s\S]*operatorBackend must be a shared backend/);
            assert.match(err, /stack 'dnipro'[\s\S]*operatorBackend/);
            assert.equal(fs.existsSync(outDir), false, "nothing written");
        } finally {
            temp.cleanup();
        }
    });

    it("refuses --apply while operatorWorkspaceImage has the placeholder digest (exit 2, kubectl never run), warns without --apply", async () => {
        for (const [image, pullable] of [[String(PROJECT.defaults.operatorWorkspaceImage), false], [TEST_WORKSPACE_IMAGE, true]] as const) {
            const temp = tempProject(["demo"], { operatorWorkspaceImage: image });
            try {
                // A kubectl that only records that it ran.
                const ran = path.join(temp.dir, "kubectl-ran");
                const kubectl = path.join(temp.dir, "kubectl");
                fs.writeFileSync(kubectl, `#!/bin/sh\ncat > /dev/null\ntouch '${ran}'\n`, { mode: 0o755 });
                let err = "";
                const code = await main(["operator", "--project", temp.dir, "--apply", "--kubectl", kubectl, "--commit", COMMIT], { out: () => undefined, err: (t) => { err += t; }, tty: false });
                if (pullable) {
                    assert.equal(code, 0, err);
                    assert.ok(fs.existsSync(ran), "a pinned image is applied");
                    assert.doesNotMatch(err, /operatorWorkspaceImage/);
                    continue;
                }
                assert.equal(code, 2, err);
                assert.match(err, /operatorWorkspaceImage: .*placeholder digest[\s\S]*banks: demo[\s\S]*Nothing applied/);
                assert.equal(fs.existsSync(ran), false, "kubectl ran with the placeholder image");
                err = "";
                assert.equal(await main(["operator", "--project", temp.dir, "--commit", COMMIT], { out: () => undefined, err: (t) => { err += t; }, tty: false }), 0);
                assert.match(err, /^WARNING: operatorWorkspaceImage: .*--apply refuses/m);
            } finally {
                temp.cleanup();
            }
        }
    });

    it("writes one file per bank plus platform.yaml, and refuses bad usage with exit 2", async () => {
        const temp = tempProject(["demo"]);
        try {
            const outDir = path.join(temp.dir, "operator");
            let out = "";
            const code = await main(["operator", "--project", temp.dir, "--out", outDir, "--commit", COMMIT], { out: (t) => { out += t; }, err: () => undefined, tty: false });
            assert.equal(code, 0);
            assert.deepEqual(fs.readdirSync(outDir).sort(), ["demo.yaml", "platform.yaml"]);
            const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(outDir, "demo.yaml"), "utf8")).map((d) => d.toJS());
            assert.equal(docs.at(-1).kind, "Stack");
            assert.match(out, /demo\s+dcm-fleet\/demo\s+\d+\s+0123456789ab/);
            assert.equal(await main(["operator", "--project", temp.dir, "--commit", "main"], { out: () => undefined, err: () => undefined }), 2);
            assert.equal(await main(["preview", "--project", temp.dir, "--apply"], { out: () => undefined, err: () => undefined }), 2);
        } finally {
            temp.cleanup();
        }
    });
});


