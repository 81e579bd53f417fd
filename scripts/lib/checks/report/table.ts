/** The final table: id, plan step, result, time, reason. */
import { formatTable } from "../../cli";
import type { CheckReport } from "../types";

const RESULT = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;

export function formatCheckTable(report: CheckReport): string {
    const rows = report.results.map((r) => [r.id, r.step, RESULT[r.status], `${r.ms} ms`, r.reason ?? ""]);
    const count = (s: string) => report.results.filter((r) => r.status === s).length;
    const summary = `${report.passed ? "PASSED" : "FAILED"}: ${count("pass")} passed, ${count("fail")} failed, ${count("skip")} skipped in ${report.ms} ms (stack ${report.stack})`;
    return `${formatTable(["CHECK", "PLAN STEP", "RESULT", "TIME", "REASON"], rows)}\n${summary}\n`;
}
