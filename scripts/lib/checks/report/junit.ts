/** JUnit XML for CI dashboards: one testsuite per stack, one testcase per check, classname = plan step. */
import type { CheckReport } from "../types";

// XML 1.0 forbids control characters other than tab, line feed and carriage return.
const allowed = (c: string) => c.charCodeAt(0) >= 0x20 || c === "\t" || c === "\n" || c === "\r";

const escape = (s: string) => [...s].filter(allowed).join("")
    .replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "\"": "&quot;", "'": "&apos;" })[c]!);

export function junitXml(report: CheckReport): string {
    const count = (s: string) => report.results.filter((r) => r.status === s).length;
    const cases = report.results.map((r) => {
        const open = `    <testcase classname="plan step ${escape(r.step)}" name="${escape(r.id)}" time="${(r.ms / 1000).toFixed(3)}"`;
        if (r.status === "pass") return r.warning ? `${open}>\n      <system-out>warning: ${escape(r.warning)}</system-out>\n    </testcase>` : `${open}/>`;
        const inner = r.status === "fail"
            ? `<failure message="${escape(r.reason ?? "failed")}">${escape(r.title)}</failure>`
            : `<skipped message="${escape(r.reason ?? "skipped")}"/>`;
        return `${open}>\n      ${inner}\n    </testcase>`;
    });
    return [
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        `<testsuites name="dcm-integration-checks" tests="${report.results.length}" failures="${count("fail")}" skipped="${count("skip")}" time="${(report.ms / 1000).toFixed(3)}">`,
        `  <testsuite name="${escape(report.stack)}" tests="${report.results.length}" failures="${count("fail")}" skipped="${count("skip")}" time="${(report.ms / 1000).toFixed(3)}">`,
        ...cases,
        "  </testsuite>",
        "</testsuites>",
        "",
    ].join("\n");
}
