/** The tests' render cache: a render is reused only for the same program, stack file and options. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { renderKey } from "../../support/render";

describe("the render cache key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-key-"));
    for (const [f, text] of [["Pulumi.yaml", "name: p\n"], ["infra/index.ts", "export const a = 1;\n"], ["components/c.ts", "export {};\n"], ["domain/d.ts", "export {};\n"], ["stacks/Pulumi.demo.yaml", "config: {}\n"]]) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), text);
    }
    const options = { projectDir: dir, stack: "demo" };

    it("is the same for the same program, stack file and options", () => {
        assert.equal(renderKey(options), renderKey({ ...options }));
    });

    it("changes with the options, a program file of each folder, Pulumi.yaml and the stack file", () => {
        const keys = new Set([renderKey(options), renderKey({ ...options, overrides: { tlsMode: "self-signed" } }), renderKey({ ...options, seed: "s" })]);
        for (const f of ["infra/index.ts", "components/c.ts", "domain/d.ts", "Pulumi.yaml", "stacks/Pulumi.demo.yaml"]) {
            fs.appendFileSync(path.join(dir, f), "// changed\n");
            keys.add(renderKey(options));
        }
        assert.equal(keys.size, 8);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
