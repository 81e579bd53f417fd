/** The pack's shape: one policy per `<group>-<rule>.ts` file, named after it, with a one-line doc comment giving severity and why. */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { policies } from "../../policies/pack";
import { PROJECT_ROOT } from "../../domain/project";

const DIR = path.join(PROJECT_ROOT, "policies");
const SUPPORT = ["index.ts", "pack.ts", "evaluate.ts"];
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".ts") && !SUPPORT.includes(f));

describe("policy files", () => {
    it("every policy file is in the pack and every policy has its file", () => {
        assert.deepEqual(files.map((f) => f.replace(/\.ts$/, "")).sort(), policies.map((p) => p.name).sort());
    });

    it("policy names are unique and <group>-<rule>", () => {
        assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
        for (const p of policies) assert.match(p.name, /^[a-z]+-[a-z0-9-]+$/);
    });

    for (const file of files) {
        it(`${file}: one exported policy, a first-line doc comment giving its severity and why`, () => {
            const text = fs.readFileSync(path.join(DIR, file), "utf8");
            const doc = /^\/\*\* (Mandatory|Advisory): (.+) \*\/\n/.exec(text);
            assert.ok(doc, `${file} must start with /** Mandatory|Advisory: why */ on one line`);
            const policy = policies.find((p) => p.name === file.replace(/\.ts$/, ""))!;
            assert.equal(doc[1].toLowerCase(), policy.enforcementLevel, `${file}: the comment says ${doc[1]}, the policy is ${policy.enforcementLevel}`);
            assert.ok(doc[2].length > 30, `${file}: say why`);
            assert.equal((text.match(/: (ResourceValidationPolicy|StackValidationPolicy) = \{/g) ?? []).length, 1, `${file}: exactly one policy`);
        });
    }

    it("index.ts serves the pack's list; nothing else constructs a PolicyPack", () => {
        const index = fs.readFileSync(path.join(DIR, "index.ts"), "utf8");
        assert.match(index, /new PolicyPack\(PACK_NAME, \{[^}]*policies,\n\}\);/s);
        for (const f of [...files, "pack.ts", "evaluate.ts"]) assert.doesNotMatch(fs.readFileSync(path.join(DIR, f), "utf8"), /new PolicyPack\(/, f);
    });
});
