/**
 * Post-deploy integration checks (issue 5): what `npm run check` runs, for other scripts to call.
 * runChecks never throws for a failing check (see report.passed); it throws InputError for bad input.
 */
export type { CheckOptions, CheckReport, CheckResult, ProgressEvent, UnreachableHost } from "./types";
export { InputError } from "./errors";
export { runChecks, DEFAULT_SCENARIO } from "./runner";
export { formatCheckTable } from "./report/table";
export { DCM_ISSUER } from "./jwt";
