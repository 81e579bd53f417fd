/** The reports: table, JUnit XML, JSON, progress on a terminal and off it, and the redactor behind them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckReport, formatCheckTable } from "../../../scripts/lib/checks";
import { Redactor } from "../../../scripts/lib/checks/redact";
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
});
