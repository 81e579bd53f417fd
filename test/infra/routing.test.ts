/**
 * The edge's notes (issue 26; issue 23's rate-limit row): the render says plainly when the edge has no rate limit,
 * and never recommends ingress-nginx's use-forwarded-headers without proxy-real-ip-cidr, here or in docs/devops.md.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_DCM_API_PATHS, edgeNotes, EdgeSettings } from "../../domain/routing";

const edge = (over: Partial<EdgeSettings>): EdgeSettings => ({
    routing: "gateway-api", gateway: { name: "dcm-edge", namespace: "dcm-gateway", listeners: "listener-set", className: "" }, rateLimit: "none", trustedProxyCidrs: [],
    dcmApi: { name: "dcm-api", namespace: "dcm-platform", port: 8443, hostname: "dcm-api.dcm-platform.svc.cluster.local", paths: [...DEFAULT_DCM_API_PATHS], ca: "dcm-api-ca" },
    ...over,
});
const ALL = [
    edge({}), edge({ rateLimit: "envoy-gateway" }), edge({ rateLimit: "envoy-gateway", trustedProxyCidrs: ["10.20.0.0/16"] }),
    edge({ rateLimit: "traefik" }), edge({ rateLimit: "traefik", trustedProxyCidrs: ["10.20.0.0/16", "2001:db8::/32"] }),
    edge({ routing: "ingress-nginx" }), edge({ routing: "ingress-nginx", trustedProxyCidrs: ["10.20.0.0/16", "2001:db8::/32"] }),
];

describe("what the render says about the edge", () => {
    it("says plainly that the edge has no rate limit when gateway-api names no implementation, and only then", () => {
        for (const e of ALL) {
            const noLimit = edgeNotes(e).some((n) => /^NO RATE LIMIT on \/\.ory/.test(n));
            assert.equal(noLimit, e.routing === "gateway-api" && e.rateLimit === "none", JSON.stringify(e));
        }
    });

    it("recommends use-forwarded-headers only together with proxy-real-ip-cidr set to the trusted proxy ranges", () => {
        for (const e of ALL) {
            for (const note of edgeNotes(e).filter((n) => n.includes("use-forwarded-headers"))) {
                if (e.trustedProxyCidrs.length === 0) assert.match(note, /must not set use-forwarded-headers/);
                else assert.ok(note.includes(`proxy-real-ip-cidr: "${e.trustedProxyCidrs.join(",")}"`), note);
            }
        }
        assert.ok(edgeNotes(ALL.find((e) => e.routing === "ingress-nginx" && e.trustedProxyCidrs.length > 0)!).some((n) => n.includes("use-forwarded-headers")), "the legacy mode says what the controller needs");
    });

    it("tells Traefik's entryPoints to believe X-Forwarded-For from exactly the trusted proxy ranges, or from nobody", () => {
        for (const e of ALL.filter((x) => x.rateLimit === "traefik")) {
            const notes = edgeNotes(e).join("\n");
            assert.match(notes, /kubernetesCRD provider/);
            if (e.trustedProxyCidrs.length === 0) assert.match(notes, /must not trust forwarded headers/);
            else assert.ok(notes.includes(`outside ${e.trustedProxyCidrs.join(", ")}`) && /forwardedHeaders\.trustedIPs to the same ranges/.test(notes), notes);
        }
    });

    it("docs/devops.md never recommends use-forwarded-headers without proxy-real-ip-cidr", () => {
        const devops = fs.readFileSync(path.resolve(__dirname, "..", "..", "docs", "devops.md"), "utf8");
        const paragraphs = devops.split(/\n\s*\n|\n- /).filter((p) => p.includes("use-forwarded-headers"));
        assert.ok(paragraphs.length > 0);
        for (const p of paragraphs) assert.match(p, /proxy-real-ip-cidr/, p);
    });
});
