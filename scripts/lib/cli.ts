/** What every command in scripts/ shares: exit codes, unexpected errors, tables. */

/** Runs a command's main and exits with its code; an unexpected error is exit 1 with its message, never a dump of values. */
export function runCli(main: (argv: string[]) => Promise<number>): void {
    main(process.argv.slice(2)).then(
        (code) => { process.exitCode = code; },
        (err: unknown) => {
            process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exitCode = 1;
        },
    );
}

/** A plain-text table with padded columns. */
export function formatTable(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) => cells.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd();
    return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
