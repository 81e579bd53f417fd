/**
 * The offline evaluator against @pulumi/policy's own analyzer: same policies, same verdicts; how recorded
 * resources become policy resources; enforcement levels and config; secret outputs in both presentations.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { evaluateResource, evaluateStack, policyCatalog, PolicyResource, stackPolicyConfig } from "../../policies/evaluate";
import { fromRecorded } from "../../scripts/lib/engine/policy-resources";
import { policies } from "../../policies/pack";
import type { RecordedResource } from "../../scripts/lib/engine/offline-runtime";
import { analyzeWithEngine, canonical } from "./engine";
import { API_HOST, compliantStack, named, PRIVATE_KEY_PEM, STACK, urnOf, withChange } from "./fixtures";

const check = (resources: PolicyResource[], config?: Record<string, any>) => evaluateStack(resources, { stack: STACK, config });

/** A stack breaking many policies at once, resource and stack ones. */
function badStack(): PolicyResource[] {
    const stack = structuredClone(compliantStack());
    delete (named(stack, "api").props as any).spec.tls;
    (named(stack, "frontend").props as any).spec.template.spec.containers[0].securityContext.privileged = true;
    (named(stack, "jwt-jwks").props as any).data["key.pem"] = PRIVATE_KEY_PEM;
    named(stack, "jwt-signing-key-a-keypair").protect = false;
    (named(stack, "key-keeper-identification").props as any).length = 20;
    delete (named(stack, "bank").props as any).metadata.labels["dcm/alias"];
    const outputs = named(stack, "dcm-integration-demo");
    outputs.props.adminToken = "Zk39LmQp2XvB8nRt";
    outputs.markedProps!.adminToken = "Zk39LmQp2XvB8nRt";
    // Secret on the wire, but not declared: the CLI cannot see that it is secret.
    outputs.props.backupKeyPem = PRIVATE_KEY_PEM;
    outputs.markedProps!.backupKeyPem = { $secret: PRIVATE_KEY_PEM };
    return stack;
}

/** The policies badStack() targets, one change each (outputs-secrets twice); others may fire too. */
const BAD_STACK_POLICIES = ["ingress-tls", "keys-password-length", "keys-protected", "namespace-labels", "outputs-secrets", "pods-restricted", "secrets-configmaps"];

/** The same resources as the Pulumi CLI presents them: no secret markers. */
const asCli = (rs: PolicyResource[]) => rs.map(({ markedProps: _m, ...r }) => r);

describe("parity with @pulumi/policy's analyzer (the CLI's path)", () => {
    it("reports exactly what the analyzer reports for a stack breaking many rules", async () => {
        const bad = badStack();
        const engine = await analyzeWithEngine(bad);
        const offline = check(asCli(bad));
        // Each change of badStack() is seen, so parity covers every policy it targets.
        const broken = new Set(engine.map((v) => v.policy));
        assert.deepEqual(BAD_STACK_POLICIES.filter((p) => !broken.has(p)), [], `policies the bad stack must break; it broke: ${[...broken].join(", ")}`);
        assert.deepEqual(canonical(offline), canonical(engine));
    });

    it("agrees on the compliant stack: nothing", async () => {
        assert.deepEqual(await analyzeWithEngine(compliantStack()), []);
    });
});

describe("secret stack outputs", () => {
    it("under the CLI (secrets unwrapped) the declared secret outputs are taken on trust", () => {
        assert.deepEqual(check(asCli(compliantStack())), []);
    });

    it("under the CLI an undeclared secret-looking output is flagged even if it is secret", () => {
        const vs = check(asCli(badStack())).filter((v) => v.policy === "outputs-secrets");
        assert.deepEqual(vs.map((v) => v.message).sort(), [
            "Stack output adminToken holds a value under a secret-sounding name but is not a secret: make it a secret and list it in this policy's secretOutputs config.",
            "Stack output backupKeyPem holds a PEM private key but is not a secret: make it a secret and list it in this policy's secretOutputs config.",
        ]);
    });

    it("under the CLI the secretOutputs config declares more secret outputs", () => {
        const config = { "outputs-secrets": { secretOutputs: ["keyKeeperPasswords", "signingPrivateKeyPem", "backupKeyPem"] } };
        const vs = check(asCli(badStack()), config).filter((v) => v.policy === "outputs-secrets");
        assert.deepEqual(vs.map((v) => v.message.split(" ")[2]), ["adminToken"]);
    });

    it("with markers (the offline render) a secret output passes whatever its name, a plain one fails", () => {
        const vs = check(badStack()).filter((v) => v.policy === "outputs-secrets");
        assert.deepEqual(vs.map((v) => v.message), ["Stack output adminToken holds a value under a secret-sounding name but is not a secret: wrap it in pulumi.secret()."]);
    });

    it("with markers a declared output that is not secret still fails", () => {
        const stack = withChange("dcm-integration-demo", (_p, r) => { r.markedProps!.signingPrivateKeyPem = PRIVATE_KEY_PEM; });
        assert.match(check(stack).map((v) => v.message).join("\n"), /^Stack output signingPrivateKeyPem holds a PEM private key but is not a secret/m);
    });

    it("a value kept in the wire format counts as secret", () => {
        const stack = withChange("dcm-integration-demo", (p) => {
            p.extraKeyPem = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: PRIVATE_KEY_PEM };
        });
        assert.deepEqual(check(asCli(stack)), []);
    });

    it("names that refer to secrets are not secrets", () => {
        const stack = withChange("dcm-integration-demo", (_p, r) => {
            r.markedProps!.firstEmployeeRecoverySecret = "first-employee-recovery";
            r.markedProps!.tlsSecretName = "bank-tls";
            r.markedProps!.kratosPublicUrl = `https://${API_HOST}/.ory`;
        });
        assert.deepEqual(check(stack), []);
    });
});

describe("fromRecorded", () => {
    const recorded: RecordedResource = {
        urn: urnOf("kubernetes:core/v1:Secret", "jwt-signer"), type: "kubernetes:core/v1:Secret", name: "jwt-signer", custom: true,
        parent: urnOf("dcm:integration:JwtKeySet", "jwt"),
        inputs: { metadata: { name: "jwt-signing-key" }, stringData: { $secret: { "private-key.pem": "PEM" } } },
        outputs: { metadata: { name: "jwt-signing-key", uid: "u-1" }, stringData: { $secret: { "private-key.pem": "PEM" } } },
        protect: true, retainOnDelete: false, deleteBeforeReplace: false, ignoreChanges: [], replaceOnChanges: [],
        additionalSecretOutputs: [], dependencies: ["urn:a"], propertyDependencies: { stringData: ["urn:a"] },
    };

    it("gives plain props (provider outputs over inputs), options and graph; keeps the markers aside", () => {
        const r = fromRecorded(recorded);
        assert.deepEqual(r.props, { metadata: { name: "jwt-signing-key", uid: "u-1" }, stringData: { "private-key.pem": "PEM" } });
        assert.deepEqual(r.markedProps!.stringData, { $secret: { "private-key.pem": "PEM" } });
        assert.equal(r.protect, true);
        assert.equal(r.parent, recorded.parent);
        assert.deepEqual(r.dependencies, ["urn:a"]);
    });

    it("a component's props are its registered outputs", () => {
        const r = fromRecorded({ ...recorded, custom: false, type: "pulumi:pulumi:Stack", inputs: { ignored: 1 }, outputs: { kid: "k" } });
        assert.deepEqual(r.props, { kid: "k" });
    });
});

describe("enforcement levels and config", () => {
    // The api Ingress without its TLS section: ingress-tls (mandatory) reports its host, and nothing else fires.
    const noTls = () => withChange("api", (p) => { delete p.spec.tls; });
    const NO_TLS = [{ policy: "ingress-tls", severity: "mandatory", message: `Host "${API_HOST}" (spec.rules[0]) is not covered by TLS: add it to spec.tls[].hosts.` }];
    const levels = (vs: ReturnType<typeof check>) => vs.map(({ policy, severity, message }) => ({ policy, severity, message }));

    it("severity comes from the policy's enforcement level", () => {
        const catalog = new Map(policyCatalog().map((p) => [p.name, p.severity]));
        assert.equal(catalog.get("ingress-tls"), "mandatory");
        assert.equal(catalog.get("availability-frontend-replicas"), "advisory");
        assert.deepEqual(levels(check(noTls())), NO_TLS);
    });

    it("pack config overrides it, as --policy-pack-config does, in both of the CLI's forms", () => {
        const advisory = NO_TLS.map((v) => ({ ...v, severity: "advisory" }));
        assert.deepEqual(levels(check(noTls(), { "ingress-tls": "advisory" })), advisory);
        assert.deepEqual(levels(check(noTls(), { "ingress-tls": { enforcementLevel: "advisory" } })), advisory);
        assert.deepEqual(check(noTls(), { "ingress-tls": { enforcementLevel: "disabled" } }), []);
        assert.deepEqual(check(noTls(), { "ingress-tls": "disabled" }), []);
        assert.equal(policyCatalog({ config: { "ingress-tls": "disabled" } }).find((p) => p.name === "ingress-tls")?.severity, "disabled");
    });

    it("the config's `all` entry sets every policy's level; a policy's own entry wins over it", () => {
        const advisory = NO_TLS.map((v) => ({ ...v, severity: "advisory" }));
        assert.deepEqual(levels(check(noTls(), { all: "advisory" })), advisory);
        assert.deepEqual(check(noTls(), { all: { enforcementLevel: "disabled" } }), []);
        assert.deepEqual(levels(check(noTls(), { all: "disabled", "ingress-tls": "mandatory" })), NO_TLS);
        assert.ok(policyCatalog({ config: { all: "advisory" } }).every((p) => p.severity === "advisory"));
    });

    it("config for another policy leaves this one's level alone", () => {
        assert.deepEqual(levels(check(noTls(), { "ingress-host-names": "disabled", "availability-frontend-replicas": "mandatory" })), NO_TLS);
    });

    it("the host rule takes baseDomain and environment from config", () => {
        const config = { "ingress-host-names": { baseDomain: "banks.example.org" } };
        const vs = check(compliantStack(), config).filter((v) => v.policy === "ingress-host-names");
        assert.equal(vs.length, 2);
        assert.match(vs[0].message, /expected backoffice-demo-integrate\.banks\.example\.org/);
        const moved = structuredClone(compliantStack());
        for (const name of ["api", "backoffice"]) {
            const spec = (named(moved, name).props as any).spec;
            spec.rules[0].host = spec.rules[0].host.replace("dcm.example.com", "banks.example.org");
            spec.tls[0].hosts = [spec.rules[0].host];
        }
        assert.deepEqual(check(moved, config), []);
    });

    it("the alias comes from the stack in the URN", () => {
        const ingress = named(compliantStack(), "api");
        const elsewhere = { ...ingress, urn: urnOf(ingress.type, ingress.name, "org/dnipro") };
        assert.match(evaluateResource(elsewhere, { stack: "dnipro" }).map((v) => v.message).join("\n"), /naming rule for stack "dnipro"/);
        assert.deepEqual(evaluateResource(ingress, { stack: STACK }), []);
    });

    it("evaluateResource runs resource policies only", () => {
        const stack = withChange("bank", (p) => { delete p.metadata.labels["dcm/alias"]; });
        assert.deepEqual(stack.flatMap((r) => evaluateResource(r, { stack: STACK })), []);
        assert.ok(evaluateStack(stack, { stack: STACK }).some((v) => v.policy === "namespace-labels"));
    });
});

describe("the stack's own settings as policy config", () => {
    it("gives the host rule the stack's baseDomain and environment, and only those", () => {
        const config = { "dcm-integration:baseDomain": "banks.example.org", "dcm-integration:environment": "staging", "dcm-integration:alias": "demo", "other:baseDomain": "x.example" };
        assert.deepEqual(stackPolicyConfig("dcm-integration", config), {
            "ingress-host-names": { baseDomain: "banks.example.org", environment: "staging" }, "gateway-host-names": { baseDomain: "banks.example.org", environment: "staging" },
        });
        assert.deepEqual(stackPolicyConfig("dcm-integration", {}), { "ingress-host-names": {}, "gateway-host-names": {} });
    });
});

describe("running a validator", () => {
    /** Runs the stack's resource policies with one more policy in the pack, removed afterwards. */
    function withPolicy(validateResource: ResourceValidationPolicy["validateResource"]) {
        const extra: ResourceValidationPolicy = { name: "test-extra", description: "a policy added by the test", enforcementLevel: "mandatory", validateResource };
        policies.push(extra);
        try {
            return evaluateResource(named(compliantStack(), "api"), { stack: STACK });
        } finally {
            policies.splice(policies.indexOf(extra), 1);
        }
    }

    it("a validator that throws fails the run, naming the policy", () => {
        assert.throws(() => withPolicy(() => { throw new Error("boom"); }), /^Error: policy test-extra failed: boom$/);
    });

    it("an asynchronous validator is refused, not silently skipped", () => {
        assert.throws(() => withPolicy(async () => undefined), /policy test-extra failed: policy test-extra is asynchronous/);
    });

    it("notApplicable() ends the validation without a violation or an error", () => {
        assert.deepEqual(withPolicy((args, report) => { args.notApplicable("not an Ingress we check"); report("unreachable"); }), []);
    });

    it("a violation is reported with the policy's name, level and the resource's URN", () => {
        const api = named(compliantStack(), "api");
        assert.deepEqual(withPolicy((_args, report) => report("seen")), [{ policy: "test-extra", severity: "mandatory", urn: api.urn, message: "seen" }]);
    });
});

describe("pod specs of every workload kind", () => {
    const base = () => (named(compliantStack(), "frontend").props as any).spec.template;
    const privileged = (template: any) => { template.spec.containers[0].securityContext.privileged = true; return template; };
    const kinds: [string, (t: any) => Record<string, unknown>][] = [
        ["kubernetes:core/v1:Pod", (t) => ({ metadata: t.metadata, spec: t.spec })],
        ["kubernetes:apps/v1:StatefulSet", (t) => ({ spec: { template: t } })],
        ["kubernetes:apps/v1:DaemonSet", (t) => ({ spec: { template: t } })],
        ["kubernetes:batch/v1:CronJob", (t) => ({ spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: t } } } })],
    ];
    for (const [type, wrap] of kinds) {
        it(`${type.split(":").pop()}: compliant passes, a privileged container fails`, () => {
            const r = (props: Record<string, unknown>): PolicyResource => ({ urn: urnOf(type, "w"), type, name: "w", props, protect: false });
            assert.deepEqual(evaluateResource(r(wrap(base())), { stack: STACK }).filter((v) => v.severity === "mandatory"), []);
            const vs = evaluateResource(r(wrap(privileged(base()))), { stack: STACK });
            assert.deepEqual(vs.filter((v) => v.severity === "mandatory").map((v) => v.policy), ["pods-restricted"]);
        });
    }
});

describe("what must pass", () => {
    const passes = (name: string, change: (p: any) => void) => assert.deepEqual(check(withChange(name, change)), []);
    it("an image pinned by tag and digest", () => passes("frontend", (p) => { p.spec.template.spec.containers[0].image = `registry.dcm.example.com/backoffice/frontend:1.15.0@sha256:${"a".repeat(64)}`; }));
    it("RSA 3072 and P-384 signing keys", () => {
        passes("jwt-signing-key-a-keypair", (p) => { p.algorithm = "RSA"; p.rsaBits = 3072; delete p.ecdsaCurve; });
        passes("jwt-signing-key-a-keypair", (p) => { p.ecdsaCurve = "P384"; });
    });
    it("a 32-character password", () => passes("key-keeper-identification", (p) => { p.length = 32; }));
    it("runAsNonRoot and seccomp set once for the pod", () => passes("frontend", (p) => {
        const sc = p.spec.template.spec.containers[0].securityContext;
        delete sc.runAsNonRoot;
        delete sc.seccompProfile;
    }));
    it("NET_BIND_SERVICE added back", () => passes("frontend", (p) => { p.spec.template.spec.containers[0].securityContext.capabilities.add = ["NET_BIND_SERVICE"]; }));
    it("secret references in env and ConfigMaps", () => {
        passes("kratos", (p) => { p.spec.template.spec.containers[0].env.push({ name: "TLS_SECRET_NAME", value: "bank-tls" }, { name: "PASSWORD_FILE", value: "/etc/secrets/password" }); });
        passes("kratos-config", (p) => { p.data["tls.yaml"] = "secretName: bank-tls\ntokenUrl: https://auth.example/token\npassword_min_length: \"12\"\n"; });
    });
    it("ingress-nginx settings that sound secret", () => passes("api", (p) => {
        Object.assign(p.metadata.annotations, {
            "nginx.ingress.kubernetes.io/ssl-ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
            "nginx.ingress.kubernetes.io/auth-secret": "basic-auth",
            "nginx.ingress.kubernetes.io/auth-secret-type": "auth-map",
        });
    }));
    it("Kratos scaled to one replica needs no PDB", () => {
        const stack = withChange("kratos", (p) => { p.spec.replicas = 1; });
        assert.deepEqual(check(stack.filter((r) => r.name !== "kratos-pdb")), []);
    });
});
