/** The scenario format: the shipped file is valid; each malformed document is an error naming the field. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { DEFAULT_SCENARIO } from "../../../scripts/lib/checks";
import { InputError } from "../../../scripts/lib/checks/errors";
import { parseJsonPath, select } from "../../../scripts/lib/checks/json-path";
import { parseScenario } from "../../../scripts/lib/checks/scenario";
import { render } from "../../../scripts/lib/checks/template";

const base = (steps: string) => `version: 1\nvariables: { count: 2 }\nsteps:\n${steps}`;
const step = (extra = "") => `  - id: one\n    planStep: "12"\n    request: { method: POST, path: /v1/x }\n${extra}`;

describe("scenario files", () => {
    it("the shipped scenario follows plan steps 12 to 16 in order, capturing what later steps use", () => {
        const s = parseScenario(fs.readFileSync(DEFAULT_SCENARIO, "utf8"), DEFAULT_SCENARIO);
        const steps = s.steps.map((x) => x.planStep.split(",").map(Number)).flat();
        assert.deepEqual([...new Set(steps)], [12, 13, 14, 15, 16]);
        assert.deepEqual([...steps].sort((a, b) => a - b), steps, "plan steps in order");
        assert.ok(s.steps.find((x) => x.id === "customer-secret")?.secrets.includes("customerSecret"), "the customer secret is marked secret");
    });

    const bad: [string, string, RegExp][] = [
        ["no version", "steps: []\n", /^scenario\.version: must be 1$/],
        ["no steps", "version: 1\nsteps: []\n", /^steps: must be a non-empty list$/],
        ["an unknown top-level key", "version: 1\nstep: []\n", /^scenario\.step: unknown key \(known: version, description, variables, defaults, steps\)$/],
        ["a missing id", base(`  - planStep: "12"\n    request: { path: /x }\n`), /^steps\[0\]\.id: is required$/],
        ["a missing plan step", base(`  - id: a\n    request: { path: /x }\n`), /^steps\[0\]\.planStep: is required/],
        ["a relative path", base(`  - id: a\n    planStep: "12"\n    request: { path: x }\n`), /^steps\[0\]\.request\.path: must start with \//],
        ["an unknown method", base(`  - id: a\n    planStep: "12"\n    request: { method: FETCH, path: /x }\n`), /^steps\[0\]\.request\.method: 'FETCH' is not one of/],
        ["a bad status", base(step("    expect: { status: [201, 999] }\n")), /^steps\[0\]\.expect\.status\[1\]: must be an HTTP status/],
        ["a misspelt assertion key", base(step("    expect: { json: [{ path: $.a, eqauls: 1 }] }\n")), /^steps\[0\]\.expect\.json\[0\]\.eqauls: unknown key/],
        ["an assertion without a test", base(step("    expect: { json: [{ path: $.a }] }\n")), /^steps\[0\]\.expect\.json\[0\]: needs at least one of/],
        ["a bad JSONPath", base(step("    expect: { json: [{ path: \"$..a\", exists: true }] }\n")), /^steps\[0\]\.expect\.json\[0\]\.path: '\$\.\.a' is not a supported JSONPath/],
        ["a bad type", base(step("    expect: { json: [{ path: $.a, type: integer }] }\n")), /^steps\[0\]\.expect\.json\[0\]\.type: must be one of string/],
        ["an unknown variable", base(step("    request: { path: \"/v1/{{ vars.requestId }}\" }\n").replace("    request: { method: POST, path: /v1/x }\n", "")), /^steps\[0\]: \{\{ vars\.requestId \}\}: no variable 'requestId' is declared or captured by an earlier step \(known: count\)$/],
        ["an unknown reference", base(step("    expect: { json: [{ path: $.a, equals: \"{{ password }}\" }] }\n")), /^steps\[0\]: \{\{ password \}\} is not a known value/],
        ["a secret not captured", base(step("    secrets: [nope]\n")), /^steps\[0\]\.secrets: must list names captured by this step$/],
        ["a bad poll duration", base(step("    poll: { every: fast, for: 1m }\n")), /^steps\[0\]\.poll\.every: 'fast' is not a duration/],
        ["a duplicate id", base(step() + step()), /^steps\[1\]\.id: 'one' is used twice$/],
        ["invalid YAML", "version: 1\nsteps: [\n", /^f\.yaml: is not valid YAML/],
    ];
    for (const [name, text, message] of bad) {
        it(`rejects ${name}`, () => {
            assert.throws(() => parseScenario(text, "f.yaml"), (e: unknown) => e instanceof InputError && message.test(e.message));
        });
    }

    it("a value captured by one step can be used by the next, not by an earlier one", () => {
        const ok = base(step("    capture: { rid: $.id }\n") + `  - id: two\n    planStep: "13"\n    request: { path: "/v1/{{ vars.rid }}" }\n`);
        assert.equal(parseScenario(ok, "f").steps.length, 2);
        const early = base(`  - id: two\n    planStep: "13"\n    request: { path: "/v1/{{ vars.rid }}" }\n` + step("    capture: { rid: $.id }\n"));
        assert.throws(() => parseScenario(early, "f"), /no variable 'rid'/);
    });
});

describe("templates and JSON paths", () => {
    it("a whole-string template keeps the value's type; embedded ones become text", () => {
        const ctx = { vars: { n: 2, s: "x" }, alias: "demo" };
        assert.deepEqual(render({ a: "{{ vars.n }}", b: "n={{ vars.n }}", c: ["{{ alias }}"] }, ctx, "body"), { a: 2, b: "n=2", c: ["demo"] });
        assert.match(String(render("{{ uuid }}", ctx, "f")), /^[0-9a-f-]{36}$/);
        assert.notEqual(render("{{ uuid }}", ctx, "f"), render("{{ uuid }}", ctx, "f"));
        assert.throws(() => render("{{ vars.missing }}", ctx, "body.x"), /body\.x: \{\{ vars\.missing \}\} is not set$/);
    });

    it("selects by name, index and quoted name", () => {
        const doc = { a: [{ b: 1 }, { "c-d": 2 }] };
        assert.equal(select(doc, parseJsonPath("$.a[0].b", "p")), 1);
        assert.equal(select(doc, parseJsonPath("$.a[1][\"c-d\"]", "p")), 2);
        assert.equal(select(doc, parseJsonPath("$.a[5].b", "p")), undefined);
        assert.deepEqual(select(doc, parseJsonPath("$", "p")), doc);
    });
});
