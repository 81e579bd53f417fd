/**
 * The receiver on the operator engine against a real API server: a delivery answered 202 is already the bank's
 * Stack object in the cluster; the receiver is killed (SIGKILL) right after the 202; the Stack is there with the
 * ticket's data; the next start reports the job from the Stack's status and finishes it (the workspace's rights).
 * No operator runs here (test/real/operator.test.ts runs it): the status read is the one a Stack has before it.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { main as fleet } from "../../scripts/fleet";
import { ONBOARDING } from "../../scripts/lib/engine/operator-onboarding";
import { missingComponents, realBinary } from "../../real/components";
import { operatorCrdDir } from "../../real/recipes";
import { automationBody, TEST_WORKSPACE_IMAGE, tempProject, TempProject } from "../../support/onboarding/fixtures";
import { PROJECT_ROOT as ROOT } from "../../domain/project";
import { CONTROL_PLANE_COMPONENTS, ControlPlane, kubectl, startControlPlane } from "../../support/real/apiserver";
import { waitForCrds } from "../../support/real/operator";
import { freePort, Running, start, waitUntil } from "../../support/real/process";

const missing = missingComponents([...CONTROL_PLANE_COMPONENTS, "pulumi-kubernetes-operator"]);
// Random: the log redactor masks parts of a secret too, so a token made of words would mask those words in the logs.
const TOKEN = `t-${crypto.randomBytes(16).toString("hex")}`;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const TICKET = "DCMOPS-2702";
const NS = "dcm-fleet";

describe("onboarding on the operator engine: a 202 survives the receiver, for real", { skip: missing.length ? `needs ${missing.join(", ")}: run \`npm run real:setup\`` : false }, () => {
    let cp: ControlPlane;
    let temp: TempProject;
    let receiver: Running | undefined;
    let port: number;
    const serve = async (): Promise<Running> => {
        port = await freePort();
        const proc = start(process.execPath, ["--require", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "serve.ts"),
            "--engine", "operator", "--project", temp.dir, "--commit", COMMIT, "--kubectl", cp.kubectl, "--port", String(port), "--host", "127.0.0.1"], {
            env: { PATH: process.env.PATH, HOME: process.env.HOME, ONBOARDING_TOKEN: TOKEN, KUBECONFIG: cp.kubeconfig }, cwd: ROOT,
        });
        await waitUntil("the receiver", async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, proc, 120_000);
        return proc;
    };
    const stack = async () => {
        const r = await kubectl(cp, ["get", "stacks.pulumi.com", "lviv", "-n", NS, "-o", "json"]);
        return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    };

    before(async () => {
        cp = await startControlPlane();
        temp = tempProject(["demo"], { operatorWorkspaceImage: TEST_WORKSPACE_IMAGE });
        // Dev mode from the mapping's defaults (no database here), as a demo bank's ticket would get it; the cluster's
        // API server addresses as its DevOps add them to the mapping (the repository's guesses none: without them a
        // job waits for DevOps and hands nothing over).
        fs.writeFileSync(path.join(temp.dir, "jira-mapping.yaml"), fs.readFileSync(path.join(ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr:\n    - 192.0.2.10/32\n"));
        assert.equal((await kubectl(cp, ["create", "namespace", "dcm-platform"])).code, 0);
        assert.equal((await kubectl(cp, ["apply", "--server-side", "-f", operatorCrdDir(realBinary("pulumi-kubernetes-operator"))])).code, 0);
        await waitForCrds(cp);
        // The platform's part (the namespace, our admission policy), as DevOps applied it with the fleet's first bank.
        const r = await fleet(["operator", "--apply", "--only", "demo", "--project", temp.dir, "--commit", COMMIT, "--kubectl", cp.kubectl], { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, out: () => undefined, err: () => undefined });
        assert.equal(r, 0);
    });
    after(async () => {
        await receiver?.stop();
        await cp?.stop();
        temp?.cleanup();
    });

    it("answers 202 once the Stack is in the cluster; killed right after, the Stack holds the ticket's data", { timeout: 300_000 }, async () => {
        receiver = await serve();
        const res = await fetch(`http://127.0.0.1:${port}/jira`, {
            method: "POST", headers: { "content-type": "application/json", "x-onboarding-token": TOKEN }, body: JSON.stringify(automationBody(TICKET)),
        });
        const text = await res.text();
        receiver.child.kill("SIGKILL");
        await receiver.exited;
        assert.equal(res.status, 202, text);
        const body = JSON.parse(text) as { durable?: string };
        assert.equal(body.durable, `${NS}/lviv`);
        const s = await stack();
        assert.ok(s, "the Stack is there after the receiver died");
        assert.equal(s.metadata.annotations[ONBOARDING.ticket], TICKET);
        assert.equal(s.spec.config.alias, "lviv");
        assert.equal(s.spec.config.displayName, "Lviv Cooperative Bank");
        assert.equal(s.spec.destroyOnFinalize, false);
        assert.equal(s.spec.commit, COMMIT);
    });

    it("the next start reports the job from the Stack's status and finishes it", { timeout: 600_000 }, async () => {
        receiver = await serve();
        await waitUntil("the job reported from the Stack's status", async () => receiver!.output().includes("onboarding job from the Stack's status"), receiver, 60_000);
        const line = receiver.output().split("\n").find((l) => l.includes("onboarding job from the Stack's status") && l.includes(TICKET));
        assert.ok(line, receiver.output().slice(-2000));
        const logged = JSON.parse(line) as Record<string, string>;
        assert.equal(logged.alias, "lviv");
        assert.equal(logged.state, "waiting", "no operator here: the Stack has no status yet, and says so");
        assert.match(logged.follow, /kubectl -n dcm-fleet get stack lviv/);
        // The job the dead receiver left: rerun from the Stack's data; it applies the workspace's rights and hands over.
        await waitUntil("the Stack handed over", async () => (await stack())?.metadata.annotations[ONBOARDING.phase] === "handed-over", receiver, 480_000);
        assert.equal((await kubectl(cp, ["get", "serviceaccount", "pulumi-lviv", "-n", NS])).code, 0);
        assert.equal((await kubectl(cp, ["get", "role", "dcm-fleet-lviv", "-n", "bank-lviv-integrate"])).code, 0);
        assert.ok(fs.existsSync(path.join(temp.dir, "stacks", "Pulumi.lviv.yaml")), "the stack file is written");
    });
});
