/**
 * Least privilege (issue 16): the settings that bound the network (API server, database and mail server
 * addresses), the database and mail links (TLS verified), the signing key's place and readers, and the
 * migrations' own DSN; as validation sees them and as the rendered stacks carry them.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { API_SERVER_HINT, cidrList, SERVER_RULE } from "../../domain/cidrs";
import { imageProblem, parseImageReference } from "../../domain/images";
import { KRATOS_ADMIN_CLIENT_LABEL } from "../../domain/names";
import { secretValueProblem } from "../../domain/rules";
import { validateStackConfig } from "../../infra/validation";
import { unpinnedReason } from "../../policies/containers-pinned-images";
import { KubernetesObject, plainObjects } from "../../scripts/lib/engine/manifests";
import { PROJECT, validRaw } from "../../support/configs";
import { render, Rendered } from "../../support/render";

const problemsOf = (overrides: Record<string, unknown>, stack = "demo") => {
    const r = validateStackConfig(validRaw(stack, overrides), stack);
    return r.ok ? [] : r.problems;
};
const podSpec = (o: KubernetesObject): any => (o.kind === "Deployment" || o.kind === "Job" ? (o.spec as any).template.spec : undefined);
const podLabels = (o: KubernetesObject): Record<string, string> => (o.spec as any).template.metadata.labels;
const find = (objects: KubernetesObject[], kind: string, name: string, namespace?: string): any => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name && (namespace === undefined || x.metadata.namespace === namespace));
    assert.ok(o, `no ${kind}/${name}`);
    return o;
};
/** True if a label selector with matchLabels and `In` expressions selects a set of labels. */
const selects = (selector: any, labels: Record<string, string>) =>
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v)
    && (selector.matchExpressions ?? []).every((e: any) => e.operator === "In" && e.values.includes(labels[e.key]));

describe("validation: the API server's addresses", () => {
    it("has no default and says how to find the addresses", () => {
        const problems = problemsOf({ apiServerCidr: undefined });
        assert.deepEqual(problems.map((p) => p.key), ["apiServerCidr"]);
        assert.match(problems[0].message, /^is required; .*kubectl get endpoints kubernetes -n default/);
        assert.equal(PROJECT.defaults.apiServerCidr, undefined, "Pulumi.yaml must not carry a default");
    });

    it("accepts single IPv4 and IPv6 addresses, as a list or one comma-separated string", () => {
        assert.deepEqual(problemsOf({ apiServerCidr: ["10.96.0.1/32", "fd00:10:96::1/128"] }), []);
        const r = validateStackConfig(validRaw("demo", { apiServerCidr: "10.0.0.5/32,10.0.0.6/32" }), "demo");
        assert.ok(r.ok);
        assert.deepEqual(r.settings.platform.apiServerCidr, ["10.0.0.5/32", "10.0.0.6/32"]);
        // As the CLI hands a YAML list to the program: JSON text.
        assert.deepEqual(problemsOf({ apiServerCidr: '["10.96.0.1/32"]' }), []);
        assert.match(problemsOf({ apiServerCidr: '["10.96.0.1/32"' })[0].message, /must be a list of CIDRs/);
    });

    it("refuses every address, anything wider than a /24, and subnets, each entry by its index, all at once", () => {
        const problems = problemsOf({ apiServerCidr: ["0.0.0.0/0", "::/0", "10.0.0.0/16", "10.0.0.0/24", "10.0.0.1/24", "10.0.0.300/32", "10.0.0.1/32", "10.0.0.1/32"] });
        assert.deepEqual(problems.map((p) => p.key), [0, 1, 2, 3, 4, 5, 7].map((i) => `apiServerCidr[${i}]`));
        const [all, all6, wide, subnet, hostBits, bad, twice] = problems.map((p) => p.message);
        assert.match(all, /'0\.0\.0\.0\/0' is wider than a \/24 \(it is every address\)/);
        assert.match(all6, /'::\/0' is wider than a \/120 \(it is every address\)/);
        assert.match(wide, /wider than a \/24/);
        assert.match(subnet, /must be a single address \(\/32 or \/128\)/);
        assert.match(hostBits, /host bits set/);
        assert.match(bad, /does not hold an IP address/);
        assert.match(twice, /listed twice/);
        for (const m of [all, all6, wide, subnet, hostBits, bad]) assert.ok(m.endsWith(API_SERVER_HINT), m);
    });

    it("never quotes a line break or control character, and bounds the list", () => {
        for (const hostile of ["10.0.0.1/32\n- 0.0.0.0/0", "10.0.0.1/32\u2028", "10.0.0.1/32\u0085"]) {
            const problems = problemsOf({ apiServerCidr: [hostile] });
            assert.equal(problems.length, 1);
            assert.ok(!/[\n\u2028\u0085]/.test(problems[0].message), JSON.stringify(problems[0].message));
        }
        const many = Array.from({ length: 17 }, (_, i) => `10.0.0.${i + 1}/32`);
        assert.match(problemsOf({ apiServerCidr: many })[0].message, /at most 16 entries/);
        assert.match(problemsOf({ apiServerCidr: [] })[0].message, /at least one address/);
        assert.match(problemsOf({ apiServerCidr: { cidr: "10.0.0.1/32" } })[0].message, /must be a list of CIDRs/);
    });
});

describe("validation: the database and mail links", () => {
    const DSN = "postgres://kratos:s3cr3t-pw@db.dcm.example.com:5432/kratos";
    const SMTP = "smtps://mailer:s3cr3t-pw@smtp.dcm.example.com/";

    it("requires the DSNs to verify the server's certificate", () => {
        for (const key of ["kratosDsn", "kratosMigrationDsn"]) {
            for (const query of ["", "?sslmode=disable", "?sslmode=allow", "?sslmode=prefer", "?sslmode=require", "?sslmode=verify-full&sslmode=disable", "?sslmode=VERIFY-FULL"]) {
                const rule = secretValueProblem(key, `${DSN}${query}`);
                assert.match(rule ?? "", /must verify the database server's certificate: add sslmode=verify-full/, `${key}${query}`);
                assert.ok(!rule!.includes("s3cr3t"), "the value is secret");
            }
            assert.equal(secretValueProblem(key, `${DSN}?sslmode=verify-full`), undefined);
            assert.equal(secretValueProblem(key, `${DSN}?connect_timeout=5&sslmode=verify-ca`), undefined);
        }
    });

    it("refuses SMTP URIs that turn off STARTTLS or certificate checks, in any spelling Go reads as true", () => {
        for (const query of ["disable_starttls=true", "skip_ssl_verify=true", "skip_ssl_verify=1", "disable_starttls=True", "skip_ssl_verify=t", "skip_ssl_verify=yes"]) {
            const rule = secretValueProblem("kratosSmtpUri", `${SMTP}?${query}`);
            assert.match(rule ?? "", new RegExp(`must not set ${query.split("=")[0]}`), query);
            assert.ok(!rule!.includes("s3cr3t"));
        }
        assert.equal(secretValueProblem("kratosSmtpUri", `${SMTP}?skip_ssl_verify=false&disable_starttls=0`), undefined);
        assert.equal(secretValueProblem("kratosSmtpUri", "smtp://mailer:pw@smtp.dcm.example.com:587/"), undefined, "STARTTLS is Kratos' default");
    });

    it("keeps the database and mail servers to their own addresses", () => {
        assert.deepEqual(cidrList(["10.42.17.0/24", "fd00:42::5/128"], SERVER_RULE), { cidrs: ["10.42.17.0/24", "fd00:42::5/128"], problems: [] });
        for (const wide of ["0.0.0.0/0", "10.42.0.0/16", "fd00::/64"]) {
            assert.match(cidrList([wide], SERVER_RULE).problems[0], /is wider than a/, wide);
        }
    });
});

describe("the pinned-image rule", () => {
    const refs = [
        "oryd/kratos", "oryd/kratos:latest", "oryd/kratos:v1.3.1", `oryd/kratos@sha256:${"a".repeat(64)}`,
        `oryd/kratos:v1.3.1@sha256:${"a".repeat(63)}`, `oryd/kratos:v1.3.1@sha256:${"A".repeat(64)}`, `Oryd/kratos:v1.3.1@sha256:${"a".repeat(64)}`,
        `oryd/kratos:v1.3.1@sha256:${"a".repeat(64)}`, `registry.dcm.example.com:5000/frontend:1.14.2@sha256:${"b".repeat(64)}`,
        "registry.dcm.example.com:5000/frontend", "", "oryd/kratos:v1.3.1\n@sha256:x",
    ];

    it("is one rule: validation and the policy pack give the same verdict and message for every reference", () => {
        for (const ref of refs) assert.equal(unpinnedReason(ref), imageProblem(ref), ref);
        const verdicts = refs.map((ref) => imageProblem(ref) === undefined);
        assert.deepEqual(verdicts, [false, false, false, false, false, false, false, true, true, false, false, false]);
        for (const ref of refs.filter((r) => r)) {
            const viaConfig = validateStackConfig(validRaw("demo", { kratosImage: ref }), "demo");
            assert.equal(viaConfig.ok, imageProblem(ref) === undefined, ref);
            // A control character is refused first by validation's rule for every string setting.
            if (!viaConfig.ok && !/\p{Cc}/u.test(ref)) assert.equal(viaConfig.problems[0].message, imageProblem(ref));
        }
    });

    it("tells how to read a tag's digest when one is missing", () => {
        assert.match(imageProblem("oryd/kratos:v1.3.1")!, /has no digest: .*name:tag@sha256:.*crane digest/);
        assert.deepEqual(parseImageReference("registry.dcm.example.com:5000/frontend:1.14.2"), { repository: "registry.dcm.example.com:5000/frontend", tag: "1.14.2" });
    });

    it("holds for every image default of Pulumi.yaml, each pinned by tag and digest", () => {
        const keys = Object.keys(PROJECT.defaults).filter((k) => k.endsWith("Image"));
        assert.deepEqual(keys.sort(), ["bootstrapImage", "frontendImage", "jwksServerImage", "kratosImage", "operatorWorkspaceImage"]);
        for (const key of keys) {
            const ref = PROJECT.defaults[key] as string;
            assert.equal(imageProblem(ref), undefined, `${key}: ${ref}`);
            const { tag, digest } = parseImageReference(ref);
            assert.ok(tag && digest, key);
        }
    });
});

describe("the rendered stacks", () => {
    let demo: Rendered;
    let production: Rendered;
    const API_SERVER = ["10.96.0.1/32", "fd00:10:96::1/128"];

    before(async () => {
        [demo, production] = await Promise.all([
            render({ stack: "demo" }),
            render({ stack: "dnipro", overrides: { apiServerCidr: API_SERVER, signerNamespace: "dcm-signing", signerServiceAccount: "jwt-signer" } }),
        ]);
    });

    it("names the peers of every rule, and lets the bootstrap pod reach only Kratos admin and the API server's addresses", () => {
        for (const r of [demo, production]) {
            const policies = plainObjects(r.resources).filter((o) => o.kind === "NetworkPolicy") as any[];
            for (const p of policies) {
                for (const rule of p.spec.ingress ?? []) assert.ok(rule.from?.length > 0, `${p.metadata.name}: an ingress rule without sources`);
                for (const rule of p.spec.egress ?? []) assert.ok(rule.to?.length > 0, `${p.metadata.name}: an egress rule without destinations`);
            }
        }
        const bootstrap = find(plainObjects(production.resources), "NetworkPolicy", "first-employee-bootstrap-egress");
        const blocks = bootstrap.spec.egress.flatMap((rule: any) => rule.to.filter((t: any) => t.ipBlock).map((t: any) => t.ipBlock.cidr));
        assert.deepEqual(blocks, API_SERVER);
        assert.deepEqual(find(plainObjects(demo.resources), "NetworkPolicy", "first-employee-bootstrap-egress").spec.egress[1].to, [{ ipBlock: { cidr: "192.0.2.10/32" } }]);
    });

    it("runs the Kratos server with Ory's usage reports turned off", () => {
        for (const r of [demo, production]) {
            const server = plainObjects(r.resources).filter((o) => o.kind === "Deployment").flatMap((o) => podSpec(o).containers as any[])
                .filter((c) => c.args?.[0] === "serve");
            assert.equal(server.length, 1, "one Kratos server container");
            assert.ok(server[0].args.includes("--sqa-opt-out"), server[0].args.join(" "));
        }
    });

    it("admits Kratos admin from the first-employee Job's pods only: no other workload carries its label", () => {
        for (const r of [demo, production]) {
            const objects = plainObjects(r.resources);
            const carriers = objects.filter((o) => podSpec(o) && podLabels(o)[KRATOS_ADMIN_CLIENT_LABEL.key] !== undefined);
            assert.deepEqual(carriers.map((o) => `${o.kind}/${o.metadata.name}`), ["Job/first-employee-bootstrap"]);
            const admin = find(objects, "NetworkPolicy", "kratos-admin-from-bootstrap");
            const from = admin.spec.ingress[0].from;
            assert.equal(from.length, 1);
            assert.equal(from[0].podSelector.matchLabels[KRATOS_ADMIN_CLIENT_LABEL.key], KRATOS_ADMIN_CLIENT_LABEL.value);
            // The frontend, the JWKS server and Kratos' own pods are not admitted.
            for (const o of objects.filter((x) => podSpec(x) && x.metadata.name !== "first-employee-bootstrap")) {
                assert.ok(!selects(from[0].podSelector, podLabels(o)), `${o.kind}/${o.metadata.name} reaches Kratos admin`);
            }
        }
    });

    it("lets exactly the pods that hold a DSN reach the database, and only the courier the mail server, by address", () => {
        const objects = plainObjects(production.resources);
        const database = find(objects, "NetworkPolicy", "kratos-database-egress");
        const smtp = find(objects, "NetworkPolicy", "kratos-smtp-egress");
        const withEnv = (name: string) => objects.filter((o) => podSpec(o)?.containers.some((c: any) => (c.env ?? []).some((e: any) => e.name === name)));
        const names = (os: KubernetesObject[]) => os.map((o) => `${o.kind}/${o.metadata.name}`).sort();
        const selected = (policy: any) => objects.filter((o) => podSpec(o) && selects(policy.spec.podSelector, podLabels(o)));
        assert.deepEqual(names(selected(database)), names(withEnv("DSN")));
        assert.deepEqual(names(selected(database)), ["Deployment/kratos", "Deployment/kratos-courier", "Job/kratos-migrations"]);
        assert.deepEqual(names(selected(smtp)), ["Deployment/kratos-courier"]);
        assert.deepEqual(database.spec.egress[0].to, [{ ipBlock: { cidr: "10.42.17.5/32" } }]);
        assert.deepEqual(smtp.spec.egress[0].to, [{ ipBlock: { cidr: "10.42.18.25/32" } }]);
    });

    it("runs migrations as their own Job with their own DSN Secret, which no other pod mounts, before the server", () => {
        const objects = plainObjects(production.resources);
        const job = find(objects, "Job", "kratos-migrations");
        const container = job.spec.template.spec.containers[0];
        // `migrate sql up`: the bare `migrate sql` is deprecated in v26.2.0.
        assert.deepEqual(container.args, ["migrate", "sql", "up", "-e", "--yes"]);
        assert.deepEqual(container.env, [{ name: "DSN", valueFrom: { secretKeyRef: { name: "kratos-migrations", key: "dsn" } } }]);
        const secretRefs = (o: KubernetesObject) => JSON.stringify(podSpec(o)).match(/"secretKeyRef":\{"name":"[^"]+"/g) ?? [];
        for (const o of objects.filter((x) => podSpec(x) && x !== job)) {
            assert.ok(!secretRefs(o).some((ref) => ref.includes('"kratos-migrations"')), `${o.metadata.name} reads the migration DSN`);
        }
        const server = production.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "kratos-server")!;
        const jobUrn = production.resources.find((r) => r.type === "kubernetes:batch/v1:Job" && r.name === "kratos-migrations-job")!.urn;
        assert.ok(server.dependencies.includes(jobUrn), "the server waits for the migrations");
        assert.ok(!plainObjects(demo.resources).some((o) => o.metadata.name === "kratos-migrations"), "dev mode migrates in the pod");
    });

    it("puts the signing key in the signer's namespace, readable by its service account alone, and nowhere in the bank's", () => {
        const objects = plainObjects(production.resources);
        const bankNamespace = production.outputs.namespaceName as string;
        const holders = production.resources.filter((r) => r.type === "kubernetes:core/v1:Secret"
            && JSON.stringify(r.inputs).includes("private-key.pem"));
        assert.deepEqual(holders.map((r) => (r.inputs.metadata as any).namespace), ["dcm-signing"]);
        const secret = find(objects, "Secret", "jwt-signing-key-dnipro-integrate", "dcm-signing");
        assert.ok(!objects.some((o) => o.kind === "Secret" && o.metadata.namespace === bankNamespace && o.metadata.name.startsWith("jwt-signing-key")));
        const roles = objects.filter((o) => o.kind === "Role" && o.metadata.namespace === "dcm-signing") as any[];
        assert.deepEqual(roles.map((r) => r.rules), [[{ apiGroups: [""], resources: ["secrets"], resourceNames: [secret.metadata.name], verbs: ["get"] }]]);
        const binding = find(objects, "RoleBinding", `${secret.metadata.name}-reader`, "dcm-signing");
        assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roles[0].metadata.name });
        assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "jwt-signer", namespace: "dcm-signing" }]);
        // The default placement, without overrides.
        assert.ok(find(plainObjects(demo.resources), "Secret", "jwt-signing-key-demo-integrate", "dcm-platform"));
    });
});
