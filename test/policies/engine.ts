/**
 * The Pulumi CLI's side of a policy run, for parity tests: each resource is sent to @pulumi/policy's own
 * analyzer RPC handlers (the code `pulumi preview --policy-pack` talks to over gRPC) the way the engine
 * marshals it, secrets in the wire format (KeepSecrets), and the diagnostics are read back.
 */
import * as path from "node:path";
import type { PolicyResource, PolicyViolation } from "../../policies/evaluate";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies } from "../../policies/pack";

const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const analyzerpb = require(path.join(sdkDir, "proto", "analyzer_pb"));
const structpb = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdkDir] }));
const rpc = require("@pulumi/pulumi/runtime/rpc");
const server = require("@pulumi/policy/server");

/** `{ "$secret": v }` markers to the wire format the engine sends secrets in. */
function toWire(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(toWire);
    if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        if (Object.keys(o).length === 1 && "$secret" in o) return { [rpc.specialSigKey]: rpc.specialSecretSig, value: toWire(o.$secret) };
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, toWire(x)]));
    }
    return v;
}

function options(r: PolicyResource): unknown {
    const opts = new analyzerpb.AnalyzerResourceOptions();
    opts.setProtect(r.protect);
    if (r.parent) opts.setParent(r.parent);
    return opts;
}

function properties(r: PolicyResource): unknown {
    // JSON, as on the wire: no undefined members.
    return structpb.Struct.fromJavaScript(JSON.parse(JSON.stringify(toWire(r.markedProps ?? r.props))));
}

function call(handler: (call: unknown, cb: (err: unknown, resp: any) => void) => unknown, request: unknown): Promise<any> {
    return new Promise((resolve, reject) => {
        void handler({ request }, (err, resp) => (err ? reject(err) : resolve(resp)));
    });
}

function violations(resp: any, policyUrn?: string): PolicyViolation[] {
    const descriptions = new Map(policies.map((p) => [p.name, p.description]));
    return resp.getDiagnosticsList().map((d: any) => {
        const description = descriptions.get(d.getPolicyname()) ?? "";
        // The analyzer prefixes every message with the policy's description.
        const message = String(d.getMessage()).startsWith(`${description}\n`) ? String(d.getMessage()).slice(description.length + 1) : String(d.getMessage());
        return {
            policy: d.getPolicyname(),
            severity: d.getEnforcementlevel() === analyzerpb.EnforcementLevel.MANDATORY ? "mandatory" : "advisory",
            urn: d.getUrn() || policyUrn,
            message,
        };
    });
}

/** What the CLI would report for these resources: Analyze per resource, then AnalyzeStack. */
export async function analyzeWithEngine(resources: PolicyResource[]): Promise<PolicyViolation[]> {
    const analyze = server.makeAnalyzeRpcFun(PACK_NAME, "0.1.0", PACK_ENFORCEMENT_LEVEL, policies);
    const analyzeStack = server.makeAnalyzeStackRpcFun(PACK_NAME, "0.1.0", PACK_ENFORCEMENT_LEVEL, policies);
    const out: PolicyViolation[] = [];
    for (const r of resources) {
        const req = new analyzerpb.AnalyzeRequest();
        req.setUrn(r.urn);
        req.setType(r.type);
        req.setName(r.name);
        req.setProperties(properties(r));
        req.setOptions(options(r));
        out.push(...violations(await call(analyze, req), r.urn));
    }
    const stackReq = new analyzerpb.AnalyzeStackRequest();
    stackReq.setResourcesList(resources.map((r) => {
        const res = new analyzerpb.AnalyzerResource();
        res.setUrn(r.urn);
        res.setType(r.type);
        res.setName(r.name);
        res.setProperties(properties(r));
        res.setOptions(options(r));
        if (r.parent) res.setParent(r.parent);
        res.setDependenciesList(r.dependencies ?? []);
        for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
            const deps = new analyzerpb.AnalyzerPropertyDependencies();
            deps.setUrnsList(urns);
            res.getPropertydependenciesMap().set(k, deps);
        }
        return res;
    }));
    out.push(...violations(await call(analyzeStack, stackReq)));
    return out;
}

/** Order-independent form of a violation list. */
export function canonical(vs: PolicyViolation[]): string[] {
    return vs.map((v) => `${v.policy}|${v.severity}|${v.urn ?? ""}|${v.message}`).sort();
}
