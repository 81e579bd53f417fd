/**
 * The backoffice Ingresses as ingress-nginx routes them (issue 10): Kratos' admin-redirecting paths never reach
 * Kratos' redirect, the rest of /.ory reaches Kratos public with the prefix stripped, and every /.ory path
 * is rate-limited. test/real/first-employee.test.ts runs the same Ingresses in real nginx against real Kratos.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { KRATOS_HIDDEN_TARGET, KRATOS_RATE_LIMITS } from "../../components/integration-hosts";
import { plainObjects } from "../../scripts/lib/engine/manifests";
import { render, Rendered } from "../../support/render";

const HOSTS = { backoffice: "backoffice-demo-integrate.dcm.example.com" };

// The legacy mode's Ingresses; test/components/edge-routing.test.ts holds both modes to the same properties.
describe("the backoffice host's Kratos paths (routing ingress-nginx)", () => {
    let demo: Rendered;
    before(async () => { demo = await render({ stack: "demo", overrides: { routing: "ingress-nginx" } }); });

    it("answers Kratos' admin-redirecting paths on the backoffice host without Kratos' redirect, and rate-limits every /.ory path", () => {
        const objects = plainObjects(demo.resources);
        const nginx = "nginx.ingress.kubernetes.io/";
        // ingress-nginx: with use-regex on the host every path is a case-insensitive regex, longest path first.
        const locations = objects.filter((o) => o.kind === "Ingress")
            .filter((i: any) => i.spec.rules[0].host === HOSTS.backoffice)
            .flatMap((i: any) => i.spec.rules[0].http.paths.map((p: any) => ({ ingress: i.metadata.name, path: p.path as string, annotations: i.metadata.annotations })))
            .sort((a, b) => b.path.length - a.path.length);
        const route = (uri: string) => {
            const hit = locations.find((l) => new RegExp(`^${l.path}`, "i").test(uri))!;
            const target = hit.annotations[`${nginx}rewrite-target`];
            return [hit.ingress, target ? uri.replace(new RegExp(hit.path, "i"), target.replace(/\$(\d)/g, "$$$1")) : uri];
        };
        for (const uri of ["/.ory/admin/identities", "/.ory/admin", "/.ory/Admin/health/ready", "/.ory/identities", "/.ory/identities/42/credentials/password"]) {
            assert.deepEqual(route(uri), ["backoffice-kratos-admin-hidden", KRATOS_HIDDEN_TARGET], uri);
        }
        assert.deepEqual(route("/.ory/self-service/login/browser"), ["backoffice-kratos", "/self-service/login/browser"]);
        assert.deepEqual(route("/.ory/sessions/whoami"), ["backoffice-kratos", "/sessions/whoami"]);
        assert.deepEqual(route("/.ory/administrators"), ["backoffice-kratos", "/administrators"], "only the admin prefix itself");
        assert.deepEqual(route("/admin/identities"), ["backoffice", "/admin/identities"], "the frontend's own /admin page");
        for (const l of locations) {
            const limited = [`${nginx}limit-rps`, `${nginx}limit-burst-multiplier`, `${nginx}limit-connections`].map((k) => Number(l.annotations[k]));
            if (l.path.includes("ory")) assert.ok(limited.every((n) => Number.isInteger(n) && n > 0), `${l.ingress} is not rate-limited`);
            else assert.ok(limited.every((n) => Number.isNaN(n)), `${l.ingress} (the frontend) is rate-limited`);
        }
    });

    it("states the documented limits: a burst of 20 requests, 5 a second after it, 10 connections per client", () => {
        const annotations = (plainObjects(demo.resources).find((o) => o.kind === "Ingress" && o.metadata.name === "backoffice-kratos") as any).metadata.annotations;
        assert.deepEqual(KRATOS_RATE_LIMITS, { rps: 5, burstMultiplier: 4, connections: 10 });
        assert.equal(annotations["nginx.ingress.kubernetes.io/limit-rps"], "5");
        assert.equal(annotations["nginx.ingress.kubernetes.io/limit-burst-multiplier"], "4");
        assert.equal(annotations["nginx.ingress.kubernetes.io/limit-connections"], "10");
    });
});
