/**
 * The committed preview fixtures: one per capture scenario (test/fixtures/preview/capture.ts), free of secrets;
 * the capture script's usage and exit codes. The capture itself runs in test/real/preview-capture.test.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { main, missedChanges, SECRET_CANARY_PREFIX } from "../../fixtures/preview/capture";
import { SCENARIOS } from "../../fixtures/preview/scenarios";
import { fixture, FIXTURES } from "./helpers";

async function runMain(argv: string[]) {
    let out = "";
    let err = "";
    const code = await main(argv, (s) => { out += s; }, (s) => { err += s; });
    return { code, out, err };
}

describe("captured preview fixtures", () => {
    it("has one file per scenario the capture writes, and no other", () => {
        const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".json")).sort();
        assert.deepEqual(files, Object.values(SCENARIOS).map((s) => s.file).sort());
    });

    it("holds no secret: no canary the capture set with config set --secret, no private key", () => {
        for (const s of Object.values(SCENARIOS)) {
            const text = fs.readFileSync(path.join(FIXTURES, s.file), "utf8");
            assert.ok(!text.includes(SECRET_CANARY_PREFIX), `${s.file} holds a secret canary`);
            assert.doesNotMatch(text, /PRIVATE KEY/, s.file);
        }
        // dnipro's secrets are in its config only as Pulumi blinds them.
        const dnipro = JSON.parse(fs.readFileSync(path.join(FIXTURES, "dnipro.json"), "utf8")) as { config: Record<string, string> };
        for (const key of ["kratosDsn", "kratosSmtpUri"]) assert.equal(dnipro.config[`dcm-integration:${key}`], "[secret]", key);
    });

    it("shows a step of every resource its scenario changes: no scenario change fell on a resource the program lacks", () => {
        for (const s of Object.values(SCENARIOS)) assert.deepEqual(missedChanges(s, fixture(s.file).steps), [], s.file);
        const demo = SCENARIOS.demo;
        const renamed = { ...demo, after: { ...demo.after, program: { ...demo.after.program, "hosts-api-dcm": () => undefined } } };
        assert.deepEqual(missedChanges(renamed, fixture(demo.file).steps), ["hosts-api-dcm"], "an Ingress gone with routing gateway-api");
    });

    it("prints usage for --help (exit 0) and refuses an unknown scenario or argument before starting anything (exit 2)", async () => {
        const help = await runMain(["--help"]);
        assert.equal(help.code, 0);
        for (const name of Object.keys(SCENARIOS)) assert.match(help.out, new RegExp(`^  ${name} -> ${SCENARIOS[name].file}: `, "m"));
        assert.match(help.out, /Exit codes: 0/);
        const unknown = await runMain(["--only", "demo,nope"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.err, /--only: no scenario 'nope' \(scenarios: demo, dnipro/);
        const bad = await runMain(["--out"]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /--out needs a value/);
        assert.equal((await runMain(["--frobnicate"])).code, 2);
    });
});
