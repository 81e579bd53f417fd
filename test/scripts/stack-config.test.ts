import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { runOffline } from "../../scripts/lib/engine/offline-run";
import { loadStackConfig } from "../../scripts/lib/engine/stack-config";
import { PROJECT } from "../../support/configs";
import { tempProject } from "../../support/onboarding/fixtures";

function stackFile(body: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
    const file = path.join(dir, "Pulumi.x.yaml");
    fs.writeFileSync(file, body);
    return file;
}

describe("stack config assembly (as the CLI does it)", () => {
    it("lays the stack file over Pulumi.yaml's defaults, namespacing every key", () => {
        const { config } = loadStackConfig(PROJECT, "demo");
        assert.equal(config["dcm-integration:alias"], "demo");
        assert.equal(config["dcm-integration:environment"], "integrate", "project default");
        const file = stackFile("config:\n  dcm-integration:environment: staging\n  alias: x\n");
        const over = loadStackConfig(PROJECT, "x", {}, file).config;
        assert.equal(over["dcm-integration:environment"], "staging", "stack value wins");
        assert.equal(over["dcm-integration:alias"], "x", "a key without namespace gets the project's");
    });

    it("passes structured values as JSON and marks encrypted ones secret with a placeholder", () => {
        const file = stackFile([
            "config:",
            "  dcm-integration:signingKeys:",
            "    - slot: a",
            "      algorithm: ES256",
            "  dcm-integration:someSecret:",
            "    secure: v1:abc:def",
            "  dcm-integration:nested:",
            "    dsn:",
            "      secure: v1:xyz",
            "    port: 5432",
        ].join("\n"));
        const c = loadStackConfig(PROJECT, "x", {}, file);
        assert.deepEqual(JSON.parse(c.config["dcm-integration:signingKeys"]), [{ slot: "a", algorithm: "ES256" }]);
        assert.equal(c.config["dcm-integration:someSecret"], "offline-placeholder-for-someSecret");
        assert.deepEqual(JSON.parse(c.config["dcm-integration:nested"]), { dsn: "offline-placeholder-for-nested", port: 5432 });
        assert.deepEqual(c.secretKeys.sort(), ["dcm-integration:nested", "dcm-integration:someSecret"]);
        assert.deepEqual(c.placeholders.sort(), c.secretKeys);
    });

    it("names the missing file for an unknown stack", () => {
        assert.throws(() => loadStackConfig(PROJECT, "nobank"), /stack 'nobank' has no config file: .*Pulumi\.nobank\.yaml does not exist/);
    });

    it("refuses a secure: value copied from another stack's file, naming both files and every copied key at once", async () => {
        const temp = tempProject(["dnipro"]);
        try {
            const dnipro = fs.readFileSync(path.join(temp.dir, "stacks", "Pulumi.dnipro.yaml"), "utf8");
            const secure = (key: string) => new RegExp(`${key}:\\n\\s+secure: (\\S+)`).exec(dnipro)![1];
            const dsn = secure("kratosDsn");
            const smtp = secure("kratosSmtpUri");
            const kyiv = (kratosDsn: string) => [
                "config:",
                "  dcm-integration:alias: kyiv",
                "  dcm-integration:kratosDsn:",
                `    secure: ${kratosDsn}`,
                "  dcm-integration:kratosSmtpUri:",
                `    secure: ${smtp}`,
                "  dcm-integration:nested:",
                "    - dsn:",
                `        secure: ${kratosDsn}`,
                "",
            ].join("\n");
            fs.writeFileSync(path.join(temp.dir, "stacks", "Pulumi.kyiv.yaml"), kyiv(dsn));
            // Another bank's broken file is not this stack's problem.
            fs.writeFileSync(path.join(temp.dir, "stacks", "Pulumi.broken.yaml"), "config:\n  dcm-integration:alias: [broken\n");
            let message = "";
            assert.throws(() => loadStackConfig(temp.project, "kyiv"), (e: Error) => { message = e.message; return true; });
            assert.match(message, /^Invalid configuration for stack 'kyiv' \(3 problems\); nothing was created:/);
            const lines = message.split("\n").slice(1);
            for (const [key, from] of [["kratosDsn", "kratosDsn"], ["kratosSmtpUri", "kratosSmtpUri"], ["nested[0].dsn", "kratosDsn"]]) {
                const line = lines.find((l) => l.startsWith(`  - dcm-integration:${key} `)) ?? "";
                assert.ok(line.includes("in stacks/Pulumi.kyiv.yaml is the same secure: ciphertext as dcm-integration:" + from + " in stacks/Pulumi.dnipro.yaml"), `${key}: ${message}`);
                assert.match(line, /cannot decrypt under the key of stack 'kyiv' \(the passphrase provider's salt is per stack file\)/);
            }
            assert.match(message, /pulumi config set --secret -s kyiv kratosDsn <value>/);
            assert.match(message, /pulumi config set --secret --path -s kyiv 'nested\[0\]\.dsn' <value>/);
            assert.ok(!message.includes(dsn) && !message.includes(smtp), "the ciphertexts are not printed");
            // The offline render (render, fleet, onboard --offline) stops there too, before any program runs.
            const outcome = await runOffline({ stack: "kyiv", projectDir: temp.dir });
            assert.ok(!outcome.ok && outcome.error === message);
            // A value of its own passes; so does a candidate of dnipro's own file (same stack, same key).
            fs.writeFileSync(path.join(temp.dir, "stacks", "Pulumi.kyiv.yaml"), kyiv("v1:OwnNonceOfKyiv:b3duIGNpcGhlcnRleHQ=").replace(smtp, "v1:AnotherNonce:c210cA=="));
            assert.equal(loadStackConfig(temp.project, "kyiv").placeholders.length, 3);
            const candidate = path.join(temp.dir, "candidate.yaml");
            fs.writeFileSync(candidate, dnipro.replace("Dnipro Commercial Bank", "Dnipro Bank"));
            assert.ok(loadStackConfig(temp.project, "dnipro", {}, candidate).secretKeys.length > 0);
        } finally {
            temp.cleanup();
        }
    });
});

describe("provider settings in Pulumi.yaml", () => {
    it("pass the Kubernetes provider's mutability flags through to the program's config, apart from the bank's settings", () => {
        // Apart: onboarding validates the project defaults as bank settings, where a provider key is unknown.
        assert.deepEqual(Object.keys(PROJECT.defaults).filter((k) => k.includes(":")), []);
        const { config } = loadStackConfig(PROJECT, "demo");
        for (const key of ["kubernetes:enableConfigMapMutable", "kubernetes:enableSecretMutable"]) {
            assert.equal(PROJECT.providerConfig[key], true, key);
            assert.equal(config[key], "true", `${key} reaches PULUMI_CONFIG`);
        }
    });
});
