import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { loadStackConfig } from "../../scripts/lib/stack-config";
import { PROJECT } from "../helpers/configs";

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
});
