/**
 * Progress while checks run: on a terminal one live status line (done/total, running checks) with each
 * finished check printed above it; otherwise one plain line per retry and per finished check.
 */
import type { ProgressEvent } from "../types";
import { resultLabel } from "./table";

export interface ProgressWriter {
    write(text: string): unknown;
    isTTY?: boolean;
}

export function progressReporter(out: ProgressWriter, total: number): { onProgress: (e: ProgressEvent) => void; finish: () => void } {
    const running = new Set<string>();
    let done = 0;
    const live = Boolean(out.isTTY);
    const status = () => {
        const names = [...running];
        const shown = names.slice(0, 3).join(", ") + (names.length > 3 ? ` +${names.length - 3}` : "");
        return `[${done}/${total}] ${names.length ? `running ${shown}` : ""}`;
    };
    const line = (text: string) => {
        if (live) out.write(`\r\x1b[2K${text}\n${status()}`);
        else out.write(`${text}\n`);
    };
    return {
        onProgress: (e) => {
            if (e.state === "start") {
                running.add(e.check);
                // Off a terminal only outcomes are logged: a start line per check is noise in CI logs.
                if (live) out.write(`\r\x1b[2K${status()}`);
            } else if (e.state === "retry") {
                line(`retry ${e.check}: ${e.reason ?? ""}`);
            } else {
                running.delete(e.check);
                done++;
                const r = e.result!;
                const why = r.reason ?? r.warning;
                line(`${resultLabel(r)} ${r.id} (${r.ms} ms)${why ? `: ${why}` : ""}`);
            }
        },
        finish: () => {
            if (live) out.write("\r\x1b[2K");
        },
    };
}
