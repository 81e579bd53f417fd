/**
 * Issue 13's leak, as a class: whatever a bank's key keeper or DCM's API answers (a username carrying the
 * password, a cut of it, its base64 or URL encoding, in every field), no part of a secret reaches stdout,
 * stderr (progress), --json or --junit.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type * as http from "node:http";
import { main } from "../../../scripts/check";
import { leakedForms, plant } from "../../../support/checks/dcm-api";
import { LoopbackEnv, startEnvironment } from "../../../support/checks/environment";
import { assertNoLeak } from "../../../support/checks/leaks";
import { StackMaterial, stackMaterial } from "../../../support/checks/stack";

type Answer = (req: http.IncomingMessage) => { status: number; body: string; contentType?: string };

interface Run {
    code: number;
    channels: Record<string, string>;
    report: { results: { id: string; status: string; reason?: string }[] };
}

async function checkCli(env: LoopbackEnv, args: string[]): Promise<Run> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-leak-"));
    const outputs = path.join(dir, "outputs.json");
    fs.writeFileSync(outputs, JSON.stringify(env.outputs));
    const ca = path.join(dir, "ca.pem");
    fs.writeFileSync(ca, env.caPem);
    const json = path.join(dir, "report.json");
    const junit = path.join(dir, "junit.xml");
    let stdout = "";
    let stderr = "";
    const code = await main(["demo", "--outputs", outputs, "--ca", ca, ...env.resolve.flatMap((r) => ["--resolve", r]), "--json", json, "--junit", junit, "--deadline", "5s", ...args], {
        stdout: { write: (t: string) => { stdout += t; } },
        stderr: { write: (t: string) => { stderr += t; } },
    });
    const channels = { stdout, stderr, json: fs.readFileSync(json, "utf8"), junit: fs.readFileSync(junit, "utf8") };
    fs.rmSync(dir, { recursive: true, force: true });
    return { code, channels, report: JSON.parse(channels.json) as Run["report"] };
}

const reasonOf = (run: Run, id: string) => run.report.results.find((r) => r.id === id)?.reason ?? "(none)";

describe("no part of a secret leaks, whatever the key keeper answers", { concurrency: 2 }, () => {
    let material: StackMaterial;
    before(async () => {
        material = await stackMaterial();
    });

    const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });
    const cases: { name: string; answer: (m: StackMaterial) => Answer; expect: Record<string, RegExp> }[] = [
        {
            name: "a username carrying the password after a colon (the issue's leak)",
            answer: (m) => () => json(200, { users: [m.users[0], { username: `${m.users[1].username}:${m.users[1].secret}`, secret: m.users[1].secret }] }),
            expect: { "key-keeper-get-key": /^users\[1\] is not one of the seeded users \(expected dcm-demo-identification, dcm-demo-processing\)$/ },
        },
        {
            name: "canaries in every field of the users list, and in fields besides it",
            answer: (m) => () => json(200, plant({ users: [{ username: "u", secret: "s", note: "n" }, { username: "u", secret: "s" }], error: "e", detail: ["d", { x: "y" }] },
                m.users.flatMap((u) => leakedForms(u.username, u.secret)))),
            expect: { "key-keeper-get-key": /^users\[0\] is not one of the seeded users/, "key-keeper-rejects-no-token": /^accepted a request without a token \(answered 200\)$/ },
        },
        {
            name: "a refusal whose body echoes cuts and encodings of a password",
            answer: (m) => () => json(401, plant({ error: "e", hint: "h", echo: { a: "a", b: ["b", "c"] } }, leakedForms(m.users[1].username, m.users[1].secret))),
            expect: { "key-keeper-rejects-alg-none": /^rejected with 401, but the body holds a user's secret$/, "key-keeper-rejects-jku-header": /body holds a user's secret/ },
        },
        {
            name: "a refusal whose body holds 10 characters of a password only",
            answer: (m) => () => json(401, { error: `invalid token for ${m.users[0].secret.slice(12, 22)}` }),
            expect: { "key-keeper-rejects-expired": /^rejected with 401, but the body holds a user's secret$/ },
        },
        {
            name: "an answer that is not JSON, holding user:password",
            answer: (m) => () => ({ status: 200, contentType: "text/plain", body: `${m.users[1].username}:${m.users[1].secret}\n` }),
            expect: { "key-keeper-get-key": /^the answer is not JSON$/ },
        },
    ];
    for (const c of cases) {
        it(c.name, async () => {
            const env = await startEnvironment({ material, faults: { keyKeeper: { answer: c.answer(material) } } });
            try {
                const run = await checkCli(env, ["--only", "key-keeper-*"]);
                assert.equal(run.code, 1);
                for (const [id, reason] of Object.entries(c.expect)) assert.match(reasonOf(run, id), reason, id);
                assertNoLeak(material.secrets, run.channels);
            } finally {
                await env.close();
            }
        });
    }
});

describe("no part of a secret leaks, whatever DCM's API answers", () => {
    let env: LoopbackEnv;
    let dir: string;
    before(async () => {
        env = await startEnvironment({ dcm: { plantCanaries: true } });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-leak-"));
    });
    after(async () => {
        await env.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** A one-step scenario whose answer carries canaries in every field, judged by one kind of assertion. */
    const scenario = (assertion: string, extra = "") => [
        "version: 1",
        "steps:",
        "  - id: probe",
        "    planStep: \"12\"",
        "    request:",
        "      method: POST",
        "      path: /v1/identifier-requests",
        "      headers: { Authorization: \"Basic {{ users.processing.basic }}\" }",
        "      body: { counterparty: \"{{ alias }}\", assetCode: UAH, amount: 2 }",
        "    expect:",
        "      status: 201",
        `      json: [${assertion}]`,
        extra,
    ].join("\n");
    const assertions: [string, string, string, RegExp][] = [
        ["equals", "{ path: $.status, equals: pending }", "", /^\$\.status is a string of \d+ characters, expected "pending"$/],
        ["matches", "{ path: $.assetCode, matches: \"^[A-Z]{3}$\" }", "", /^\$\.assetCode is a string of \d+ characters, expected to match/],
        ["type", "{ path: $.id, type: number }", "", /^\$\.id is of type string, expected number$/],
        ["length", "{ path: $.status, length: 7 }", "", /^\$\.status has length \d+, expected 7$/],
        ["a capture", "{ path: $.id, exists: true }", "    capture: { missing: $.nothing.here }", /^nothing to capture as missing at \$\.nothing\.here$/],
    ];
    for (const [kind, assertion, extra, reason] of assertions) {
        it(`a failing '${kind}' assertion on an answer with canaries in every field`, async () => {
            const file = path.join(dir, `${kind.replace(/\W/g, "")}.yaml`);
            fs.writeFileSync(file, scenario(assertion, extra));
            const run = await checkCli(env, ["--only", "scenario-*", "--scenario", file]);
            assert.equal(run.code, 1);
            assert.match(reasonOf(run, "scenario-probe"), reason);
            assertNoLeak([...env.material.secrets, ...env.dcm.customerSecrets], run.channels);
        });
    }

    it("a value the scenario itself holds is still quoted", async () => {
        const file = path.join(dir, "quoted.yaml");
        // The answer's amount (2, from the request) is a value of the scenario: shown as is.
        fs.writeFileSync(file, scenario("{ path: $.amount, equals: 3 }"));
        const run = await checkCli(env, ["--only", "scenario-*", "--scenario", file]);
        assert.match(reasonOf(run, "scenario-probe"), /^\$\.amount is 2, expected 3$/);
    });
});
