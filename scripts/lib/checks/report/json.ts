/** The JSON report: the CheckReport as is (reasons are already redacted), with a format version. */
import type { CheckReport } from "../types";

export function jsonReport(report: CheckReport): string {
    return `${JSON.stringify({ version: 1, ...report }, null, 2)}\n`;
}
