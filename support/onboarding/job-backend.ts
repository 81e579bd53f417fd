/**
 * A stack backend for job processes in tests (`backendModule` / `serve --backend-module`): it records the
 * job process's pid and environment variable names in TEST_JOB_RECORD, then either hangs forever
 * (TEST_JOB_HANG=1: a job that never finishes by itself) or fails at once.
 */
import * as fs from "node:fs";
import type { StackBackend } from "../../scripts/lib/engine/stack-backend";

export function backendFor(): StackBackend {
    const record = process.env.TEST_JOB_RECORD;
    if (record) fs.writeFileSync(record, JSON.stringify({ pid: process.pid, env: Object.keys(process.env) }));
    return {
        selectOrCreate: () => (process.env.TEST_JOB_HANG === "1"
            ? new Promise(() => { setInterval(() => undefined, 60_000); })
            : Promise.reject(new Error("this test backend has no stacks"))),
    };
}
