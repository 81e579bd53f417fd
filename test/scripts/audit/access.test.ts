/** Whether a NetworkPolicy or RBAC change widens access. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { wideningReasons } from "../../../scripts/lib/audit/access";

const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const denyAll = { spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } };
const allowFromIngress = { spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: "ingress" } } }], ports: [{ port: 8080 }] }] } };

describe("access widening", () => {
    it("NetworkPolicy: a new allow rule, a removed policy or a dropped direction widen; a deny-only policy or a removed rule do not", () => {
        assert.deepEqual(wideningReasons(NP, undefined, denyAll), []);
        assert.match(wideningReasons(NP, undefined, allowFromIngress).join(), /new ingress allow rule/);
        assert.match(wideningReasons(NP, denyAll, undefined).join(), /lifts its restrictions \(ingress, egress\)/);
        assert.match(wideningReasons(NP, denyAll, { spec: { podSelector: {}, policyTypes: ["Ingress"] } }).join(), /egress is no longer restricted/);
        const anyPeer = structuredClone(allowFromIngress);
        delete (anyPeer.spec.ingress[0] as { from?: unknown }).from;
        assert.match(wideningReasons(NP, allowFromIngress, anyPeer).join(), /from\/to every peer/);
        assert.deepEqual(wideningReasons(NP, allowFromIngress, { spec: { ...allowFromIngress.spec, ingress: [] } }), [], "removing a rule narrows");
    });

    it("RBAC: new verbs or resources and new subjects widen; fewer do not", () => {
        const get = { rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["a"], verbs: ["get"] }] };
        const getList = { rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }] };
        assert.match(wideningReasons(ROLE, get, getList).join(), /grants get core\/secrets, list core\/secrets/);
        assert.deepEqual(wideningReasons(ROLE, getList, get), [], "get on every secret covers get on one");
        assert.match(wideningReasons(ROLE, get, { rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] }).join(), /grants \* \*\/\*/);
        const bind = (names: string[]) => ({ roleRef: { kind: "Role", name: "r" }, subjects: names.map((name) => ({ kind: "ServiceAccount", name, namespace: "ns" })) });
        assert.match(wideningReasons(BINDING, bind(["a"]), bind(["a", "b"])).join(), /binds Role r to ServiceAccount:ns\/b/);
        assert.deepEqual(wideningReasons(BINDING, bind(["a", "b"]), bind(["a"])), []);
    });
});
