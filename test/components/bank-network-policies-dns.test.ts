/**
 * DNS egress only for the pods that resolve names (issue 23): DNS is a channel out of the cluster, so the
 * frontend, the JWKS server and the first-employee Job (which holds the recovery link) get none; the Job
 * reaches Kratos admin and the API server by address. Checked on the rendered demo (dev mode: no pod
 * resolves anything) and dnipro (Kratos reaches its database and mail server by host name) stacks.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { plainObjects } from "../../scripts/lib/engine/manifests";
import { render, Rendered } from "../../support/render";

type Labels = Record<string, string>;
interface Selector { matchLabels?: Labels; matchExpressions?: { key: string; operator: string; values?: string[] }[] }

/** Whether a podSelector selects a pod with these labels (matchLabels and In/NotIn/Exists expressions). */
function selects(selector: Selector, labels: Labels): boolean {
    const labelsOk = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const expressionsOk = (selector.matchExpressions ?? []).every((e) => {
        if (e.operator === "In") return e.values!.includes(labels[e.key]);
        if (e.operator === "NotIn") return !e.values!.includes(labels[e.key]);
        if (e.operator === "Exists") return e.key in labels;
        return !(e.key in labels);
    });
    return labelsOk && expressionsOk;
}

/** Every workload's pod template labels, by workload name. */
function pods(r: Rendered): Record<string, Labels> {
    return Object.fromEntries(plainObjects(r.resources)
        .filter((o: any) => o.spec?.template?.metadata?.labels)
        .map((o: any) => [`${o.kind}/${o.metadata.name}`, o.spec.template.metadata.labels]));
}

/** The workloads some NetworkPolicy lets send to port 53. */
function resolvers(r: Rendered): string[] {
    const policies = plainObjects(r.resources).filter((o) => o.kind === "NetworkPolicy") as any[];
    const dnsPolicies = policies.filter((p) => (p.spec.egress ?? []).some((rule: any) => (rule.ports ?? []).some((port: any) => Number(port.port) === 53)));
    return Object.entries(pods(r)).filter(([, labels]) => dnsPolicies.some((p) => selects(p.spec.podSelector, labels))).map(([name]) => name).sort();
}

describe("DNS egress in a bank's namespace", () => {
    let demo: Rendered;
    let dnipro: Rendered;
    before(async () => {
        [demo, dnipro] = await Promise.all([render({ stack: "demo" }), render({ stack: "dnipro" })]);
    });

    it("only Kratos' database and mail clients may resolve names; the frontend, the JWKS server and the bootstrap Job may not", () => {
        const all = Object.keys(pods(dnipro));
        assert.ok(all.some((n) => /first-employee/.test(n)) && all.some((n) => /frontend/.test(n)) && all.some((n) => /jwks/.test(n)), all.join(", "));
        const dns = resolvers(dnipro);
        assert.ok(dns.length > 0 && dns.every((n) => /kratos/.test(n)), dns.join(", "));
        for (const name of all.filter((n) => !/kratos/.test(n))) assert.ok(!dns.includes(name), `${name} may resolve names`);
        const policies = plainObjects(dnipro.resources).filter((o) => o.kind === "NetworkPolicy") as any[];
        const allowing = policies.filter((p) => (p.spec.egress ?? []).length > 0);
        assert.ok(allowing.length > 0 && allowing.every((p) => Object.keys(p.spec.podSelector).length > 0), "no egress allowance selects every pod");
    });

    it("in dev mode (Kratos on SQLite, no mail server) no pod may resolve names", () => {
        assert.deepEqual(resolvers(demo), []);
    });

    it("the bootstrap Job reaches Kratos admin by its Service's address, with no name to resolve", () => {
        const job = plainObjects(demo.resources).find((o: any) => o.kind === "Job" && /first-employee/.test(o.metadata.name)) as any;
        const spec = job.spec.template.spec;
        assert.equal(spec.enableServiceLinks, true);
        const env = Object.fromEntries(spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
        assert.equal(env.KRATOS_ADMIN_SERVICE, "kratos-admin");
        const service = plainObjects(demo.resources).find((o: any) => o.kind === "Service" && o.metadata.name === env.KRATOS_ADMIN_SERVICE);
        assert.ok(service, "the Service the Job reads its address from exists in the namespace");
        assert.ok(Object.values(env).every((v) => !/\.svc\b|cluster\.local/.test(String(v))), JSON.stringify(env));
    });
});
