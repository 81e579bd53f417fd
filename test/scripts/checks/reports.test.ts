/** The reports: table, JUnit XML, JSON, progress on a terminal and off it, and the redactor behind them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckReport, formatCheckTable } from "../../../scripts/lib/checks";
import * as crypto from "node:crypto";
import { Redactor } from "../../../domain/redact";
import { jsonReport } from "../../../scripts/lib/checks/report/json";
import { junitXml } from "../../../scripts/lib/checks/report/junit";
import { progressReporter } from "../../../scripts/lib/checks/report/progress";

const report: CheckReport = {
    stack: "demo",
    passed: false,
    ms: 1234,
    results: [
        { id: "https-api", step: "5", title: "t1", status: "pass", ms: 12 },
        { id: "hsts-api", step: "5", title: "t2 <&>", status: "fail", ms: 30, reason: "no \"HSTS\" <header> & 'more'\u0001" },
        { id: "scenario-x", step: "13", title: "t3", status: "skip", ms: 0, reason: "an earlier step failed" },
    ],
};

describe("reports", () => {
    it("the table has a row per check with id, plan step, result, time and reason, and a summary", () => {
        const table = formatCheckTable(report);
        assert.match(table, /^CHECK\s+PLAN STEP\s+RESULT\s+TIME\s+REASON$/m);
        assert.match(table, /^hsts-api\s+5\s+FAIL\s+30 ms\s+no "HSTS"/m);
        assert.match(table, /^FAILED: 1 passed, 1 failed, 1 skipped in 1234 ms \(stack demo\)$/m);
    });

    it("JUnit XML escapes text, counts failures and skips, one testcase per check", () => {
        const xml = junitXml(report);
        assert.match(xml, /<testsuite name="demo" tests="3" failures="1" skipped="1" time="1\.234">/);
        assert.match(xml, /<failure message="no &quot;HSTS&quot; &lt;header&gt; &amp; &apos;more&apos;">t2 &lt;&amp;&gt;<\/failure>/);
        assert.match(xml, /<skipped message="an earlier step failed"\/>/);
        assert.ok(!xml.includes("\u0001"));
        assert.equal((xml.match(/<testcase /g) ?? []).length, 3);
    });

    it("the JSON report is the report with a version", () => {
        assert.deepEqual(JSON.parse(jsonReport(report)), { version: 1, ...report });
    });

    it("progress: plain lines off a terminal, a live status line on one", () => {
        let plain = "";
        const p = progressReporter({ write: (t: string) => { plain += t; } }, 2);
        p.onProgress({ check: "a", state: "start" });
        p.onProgress({ check: "a", state: "retry", reason: "503" });
        p.onProgress({ check: "a", state: "done", result: { id: "a", step: "5", title: "", status: "pass", ms: 3 } });
        p.finish();
        assert.equal(plain, "retry a: 503\nPASS a (3 ms)\n");
        let live = "";
        const t = progressReporter({ write: (s: string) => { live += s; }, isTTY: true }, 2);
        t.onProgress({ check: "a", state: "start" });
        t.onProgress({ check: "b", state: "start" });
        assert.ok(live.endsWith("\r\u001b[2K[0/2] running a, b"), live);
        t.onProgress({ check: "a", state: "done", result: { id: "a", step: "5", title: "", status: "fail", ms: 3, reason: "x" } });
        assert.ok(live.endsWith("\r\u001b[2KFAIL a (3 ms): x\n[1/2] running b"), live);
    });

    it("the redactor masks secrets, longest first, and each line of a PEM", () => {
        const r = new Redactor();
        const pem = `-----BEGIN PRIVATE KEY-----\n${"A".repeat(64)}\n${"B".repeat(20)}\n-----END PRIVATE KEY-----\n`;
        r.add("CANARY-secret-1");
        r.add("CANARY-secret-1-longer");
        r.add(pem);
        r.add("abc");
        assert.equal(r.redact("x CANARY-secret-1-longer y CANARY-secret-1 abc"), "x [secret] y [secret] abc");
        assert.equal(r.redact(`line ${"B".repeat(20)}`), "line [secret]");
    });

    describe("the redactor masks every part of a secret of 8 characters or more, in every form it travels in", () => {
        const password = "Zq8#k2&Lm9/pW4+xR7=vT1!nB6%cY3?dH5^fJ0~sG8@aE2*u";
        const username = "dcm-demo-processing";
        const r = new Redactor();
        r.add(password);
        const b64 = (t: string) => Buffer.from(t).toString("base64");
        const forms: [string, string][] = [
            ["the whole value", password],
            ["44 of its 48 characters, after the username and a colon (issue 13)", `${username}:${password.slice(0, 44)}`],
            ["any 8 characters of it", password.slice(20, 28)],
            ["a cut from its end", password.slice(-12)],
            ["its base64", b64(password)],
            ["a Basic header of user:password", `Basic ${b64(`${username}:${password}`)}`],
            ["base64 of a cut at each byte offset", [0, 1, 2].map((o) => b64(`xy${password.slice(o, o + 30)}`)).join(" ")],
            ["its base64url", Buffer.from(password).toString("base64url")],
            ["its URL encoding", `https://kk.example/key?p=${encodeURIComponent(password)}`],
            ["its form encoding", `p=${encodeURIComponent(password).replace(/%20/g, "+")}`],
            ["inside a JSON string", JSON.stringify({ u: password.slice(5) })],
        ];
        for (const [name, text] of forms) {
            it(name, () => {
                const out = r.redact(`before ${text} after`);
                assert.ok(r.reveals(text), name);
                assert.match(out, /^before .*\[secret\].* after$/);
                // What is left of the secret's form is never 8 characters in a row of it.
                for (let i = 0; i + 8 <= out.length; i++) assert.ok(!password.includes(out.slice(i, i + 8)), `${name}: '${out}'`);
            });
        }

        it("leaves ordinary text alone (7 characters of a secret are not masked)", () => {
            const text = `GET /key answered 401, expected 200; users[1] is not one of the seeded users (${username}) ${password.slice(0, 7)}`;
            assert.equal(r.redact(text), text);
            assert.equal(r.reveals(text), false);
        });

        it("masks the private JWK members of a registered private key PEM", () => {
            const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
            const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
            const d = (privateKey.export({ format: "jwk" }) as { d: string }).d;
            const k = new Redactor();
            k.add(pem);
            assert.equal(k.redact(`{"d":"${d}"}`), "{\"d\":\"[secret]\"}");
            assert.equal(k.redact(pem.split("\n").slice(1, -2).join("")), "[secret]");
        });
    });

    it("a passing check's warning shows as WARN; a check not run for an unreachable host as NOT RUN, counted apart", () => {
        const r: CheckReport = {
            stack: "demo", passed: false, ms: 10,
            unreachable: [{ host: "api.example:443", reason: "connection refused", checks: ["jwks"] }],
            results: [
                { id: "reach-api.example:443", step: "2", title: "t", status: "fail", ms: 5, reason: "api.example:443: connection refused; 1 check not run" },
                { id: "https-key-keeper", step: "1,6", title: "t", status: "pass", ms: 3, warning: "the key keeper's certificate expires on 2026-12-03, in 3 days (fewer than 14)" },
                { id: "jwks", step: "2", title: "t", status: "skip", ms: 0, reason: "not run: api.example:443 is unreachable" },
            ],
        };
        const table = formatCheckTable(r);
        assert.match(table, /^https-key-keeper\s+1,6\s+WARN\s+3 ms\s+the key keeper's certificate expires on/m);
        assert.match(table, /^jwks\s+2\s+NOT RUN\s+0 ms\s+not run: api\.example:443 is unreachable$/m);
        assert.match(table, /^FAILED: 1 passed, 1 failed, 0 skipped, 1 not run in 10 ms/m);
        const xml = junitXml(r);
        assert.match(xml, /<testcase classname="plan step 1,6" name="https-key-keeper" time="0\.003">\n\s+<system-out>warning: the key keeper&apos;s certificate expires/);
        let plain = "";
        const p = progressReporter({ write: (t: string) => { plain += t; } }, 3);
        for (const result of r.results) p.onProgress({ check: result.id, state: "done", result });
        assert.match(plain, /^WARN https-key-keeper \(3 ms\): the key keeper's certificate/m);
        assert.match(plain, /^NOT RUN jwks \(0 ms\): not run: /m);
    });
});
