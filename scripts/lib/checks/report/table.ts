/** The final table: id, plan step, result, time, reason. */
import { formatTable } from "../../cli";
import { CheckResult, isNotRun } from "../types";
import type { CheckReport } from "../types";

/** The RESULT column: PASS, WARN (passed with a warning), FAIL, SKIP or NOT RUN (a host it needs is unreachable). */
export function resultLabel(r: CheckResult): string {
    if (r.status === "pass") return r.warning ? "WARN" : "PASS";
    if (r.status === "fail") return "FAIL";
    return isNotRun(r) ? "NOT RUN" : "SKIP";
}

export function formatCheckTable(report: CheckReport): string {
    const rows = report.results.map((r) => [r.id, r.step, resultLabel(r), `${r.ms} ms`, r.reason ?? r.warning ?? ""]);
    const count = (s: string) => report.results.filter((r) => r.status === s).length;
    const notRun = report.results.filter(isNotRun).length;
    const summary = `${report.passed ? "PASSED" : "FAILED"}: ${count("pass")} passed, ${count("fail")} failed, ${count("skip") - notRun} skipped`
        + `${notRun ? `, ${notRun} not run` : ""} in ${report.ms} ms (stack ${report.stack})`;
    return `${formatTable(["CHECK", "PLAN STEP", "RESULT", "TIME", "REASON"], rows)}\n${summary}\n`;
}
