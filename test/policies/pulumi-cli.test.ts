/**
 * The pack as `pulumi preview --policy-pack policies` starts it: the CLI's analyzer plugin runs
 * @pulumi/pulumi/cmd/run-policy-pack in policies/ (PulumiPolicy.yaml, package.json, ts-node with type checks)
 * and talks gRPC to the port it prints. Here a real gRPC client plays the engine.
 */
import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { policies } from "../../policies/pack";
import { compliantStack, named, urnOf } from "./fixtures";
import { PROJECT_ROOT } from "../../domain/project";

const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
const analyzerpb = require(path.join(sdkDir, "proto", "analyzer_pb"));
const analyzerrpc = require(path.join(sdkDir, "proto", "analyzer_grpc_pb"));
const emptypb = require(require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [sdkDir] }));
const structpb = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdkDir] }));

let child: ChildProcess;
let client: any;
let stderr = "";

before(async () => {
    // Arguments as the analyzer plugin passes them: the engine's address (unused by the pack), then the program.
    child = spawn(process.execPath, [path.join(sdkDir, "cmd", "run-policy-pack"), "127.0.0.1:1", "."], {
        cwd: path.join(PROJECT_ROOT, "policies"), stdio: ["ignore", "pipe", "pipe"],
    });
    child.stderr!.on("data", (d) => { stderr += d; });
    const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`the pack printed no port in 60 s: ${stderr}`)), 60_000);
        timer.unref();
        child.stdout!.on("data", (d) => {
            out += d;
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) { clearTimeout(timer); resolve(m[1]); }
        });
        child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`the pack exited with ${code}: ${stderr}`)); });
    });
    client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(() => {
    client?.close();
    child?.kill();
});

const rpcCall = (method: string, req: unknown): Promise<any> =>
    new Promise((resolve, reject) => client[method](req, (err: unknown, resp: unknown) => (err ? reject(err) : resolve(resp))));

describe("the pack under the Pulumi CLI's analyzer protocol", () => {
    it("describes itself with every policy and its enforcement level", async () => {
        const info = await rpcCall("getAnalyzerInfo", new emptypb.Empty());
        assert.equal(info.getName(), "dcm-bank-integration");
        const served = new Map(info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]));
        assert.deepEqual([...served.keys()].sort(), policies.map((p) => p.name).sort());
        for (const p of policies) {
            const level = p.enforcementLevel === "advisory" ? analyzerpb.EnforcementLevel.ADVISORY : analyzerpb.EnforcementLevel.MANDATORY;
            assert.equal(served.get(p.name), level, p.name);
        }
    });

    it("rejects an Ingress without TLS and passes the compliant one", async () => {
        const ingress = named(compliantStack(), "api");
        const analyze = async (props: Record<string, unknown>) => {
            const req = new analyzerpb.AnalyzeRequest();
            req.setUrn(urnOf(ingress.type, ingress.name));
            req.setType(ingress.type);
            req.setName(ingress.name);
            req.setProperties(structpb.Struct.fromJavaScript(props));
            req.setOptions(new analyzerpb.AnalyzerResourceOptions());
            return (await rpcCall("analyze", req)).getDiagnosticsList();
        };
        assert.deepEqual(await analyze(ingress.props), []);
        const spec = { ...(ingress.props.spec as Record<string, unknown>) };
        delete spec.tls;
        const diags = await analyze({ ...ingress.props, spec });
        assert.equal(diags.length, 1);
        assert.equal(diags[0].getPolicyname(), "ingress-tls");
        assert.equal(diags[0].getEnforcementlevel(), analyzerpb.EnforcementLevel.MANDATORY);
        assert.match(diags[0].getMessage(), /Host "api-demo-integrate\.dcm\.example\.com" \(spec\.rules\[0\]\) is not covered by TLS/);
    });
});
