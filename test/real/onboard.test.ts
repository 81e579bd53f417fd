/**
 * `npm run onboard -- --jira` on its real backend: the Pulumi CLI through the Automation API creates the new
 * bank's stack from its workspace, the stack file onboarding writes keeps its owner line through the CLI's
 * own writes, and `pulumi up` deploys the bank into a real API server. Jira is the fake site on loopback (there
 * is no Jira Cloud here); the post-deploy checks are stubbed (the hosts do not exist here; test/scripts covers them).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import { main as onboard } from "../../scripts/onboard";
import { recordedTicket } from "../../scripts/lib/onboarding/stack-file";
import { FakeJira, startFakeJira } from "../../support/fake-jira-server";
import { automationBody } from "../../support/onboarding/fixtures";
import { kubectl } from "../../support/real/apiserver";
import { deploymentAvailable, DEPLOYMENT_SKIP, RealDeployment, startDeployment } from "../../support/real/deployment";
import { PROJECT_ROOT } from "../../domain/project";

const EMAIL = "devops@dcm.example";
const TOKEN = "jira-token-not-a-secret";
const TICKET = "DCMOPS-2401";

describe("onboarding a bank from its Jira task with the real Pulumi CLI", { skip: deploymentAvailable ? false : DEPLOYMENT_SKIP }, () => {
    let real: RealDeployment;
    let jira: FakeJira;
    let mapping: string;
    const output: string[] = [];

    before(async () => {
        real = await startDeployment([]);
        jira = await startFakeJira(EMAIL, TOKEN);
        // Dev mode (no database here) from the mapping's defaults, as a demo bank's ticket would get it; skipAwait
        // (no nodes here) is a platform setting, so the project copy's Pulumi.yaml declares it.
        mapping = path.join(real.temp.dir, "jira-mapping.yaml");
        fs.writeFileSync(mapping, fs.readFileSync(path.join(PROJECT_ROOT, "jira-mapping.yaml"), "utf8").replace("defaults:\n", "defaults:\n  kratosDevMode: \"true\"\n  apiServerCidr: [10.0.0.1/32]\n"));
        const projectFile = path.join(real.temp.dir, "Pulumi.yaml");
        const doc = YAML.parseDocument(fs.readFileSync(projectFile, "utf8"));
        doc.setIn(["config", "skipAwait"], { type: "string", default: "true", description: "The test's API server has no nodes." });
        fs.writeFileSync(projectFile, doc.toString());
        real.exportKubeconfig();
    });
    after(async () => {
        await jira?.close();
        await real?.stop();
    });

    it("creates the stack, writes the stack file with its owner line, and deploys the bank", async () => {
        const delivery = path.join(real.temp.dir, "delivery.json");
        fs.writeFileSync(delivery, JSON.stringify(automationBody(TICKET)));
        const code = await onboard(["--jira", delivery, "--project", real.temp.dir, "--workspaces", path.join(real.temp.dir, "ws"), "--mapping", mapping], {
            env: { ...process.env, JIRA_BASE_URL: jira.url, JIRA_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN },
            checks: async (stack) => ({ stack, results: [], passed: true, ms: 0 }),
            out: (t) => output.push(t),
            err: (t) => output.push(t),
        });
        assert.equal(code, 0, output.join(""));
        const file = path.join(real.temp.dir, "stacks", "Pulumi.lviv.yaml");
        const text = fs.readFileSync(file, "utf8");
        assert.equal(recordedTicket(text), TICKET, "the owner line survives the CLI's writes (encryptionsalt, config)");
        assert.match(text, /encryptionsalt:/, "the stack was created by the CLI with the passphrase provider");
        // Deployed: the engine's state and the API server agree.
        const state = JSON.parse(await real.pulumi("lviv", ["stack", "export"])) as { deployment: { resources?: { type: string }[] } };
        assert.ok((state.deployment.resources ?? []).filter((r) => r.type.startsWith("kubernetes:")).length > 30);
        const ns = await kubectl(real.cp, ["get", "namespace", "bank-lviv-integrate", "-o", "jsonpath={.metadata.labels.dcm/alias}"]);
        assert.equal(ns.stdout, "lviv", ns.stderr);
        // The ticket got its comment.
        assert.ok(jira.calls.some((c) => c.path.endsWith(`/issue/${TICKET}/comment`)), JSON.stringify(jira.calls.map((c) => c.path)));
    });
});
