/** What every command in scripts/ shares: exit codes, unexpected errors, tables. */
import { parseArgs, ParseArgsConfig } from "node:util";

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

/** Where a command writes (injectable, so tests capture it). */
export interface CommandIo {
    out(text: string): void;
    err(text: string): void;
}
export const processIo: CommandIo = { out: (t) => { process.stdout.write(t); }, err: (t) => { process.stderr.write(t); } };

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** The guide each command's --help points to, by the script name its usage starts with (`npm run <name>`). */
const GUIDES: Record<string, string> = {
    render: "docs/devops.md#rendering-offline",
    policy: "docs/devops.md#policy-pack",
    check: "docs/devops.md#post-deploy-checks-does-the-banks-environment-work",
    fleet: "docs/devops.md#all-banks-at-once",
    onboard: "docs/jira.md",
    serve: "docs/jira.md#the-receiver",
    audit: "docs/audit.md",
    schema: "docs/jira.md#the-schema-of-the-fields",
    "real:setup": "docs/devops.md#real-components",
    "test:fast": "docs/architecture.md#tests",
};

/** The usage followed by its guide's link, for a usage that starts with a command the table knows. */
function withGuide(usage: string): string {
    const guide = GUIDES[/npm run ([\w:-]+)/.exec(usage)?.[1] ?? ""];
    return guide ? `${usage}\n\nGuide: ${guide}` : usage;
}
const HELP = { help: { type: "boolean", short: "h" } } as const;

/**
 * parseArgs plus what every command does with it: `-h`/`--help` prints the usage (exit 0); unknown or malformed
 * flags print every problem in the project's words, then the usage (exit 2). Returns the parsed arguments, or the exit code.
 */
export function parseCommand<const O extends OptionsConfig>(argv: string[], options: O, usage: string, io: CommandIo = processIo, allowPositionals = true) {
    const all: OptionsConfig = { ...options, ...HELP };
    const problems = commandLineProblems(argv, all, allowPositionals);
    if (problems.length > 0) return usageError(io, problems.join("\n"), usage);
    let parsed;
    try {
        parsed = parseArgs({ args: argv, allowPositionals, strict: true, options: { ...options, ...HELP } });
    } catch (e) {
        // A case commandLineProblems does not foresee: Node's own words rather than none.
        return usageError(io, (e as Error).message, usage);
    }
    if ((parsed.values as { help?: boolean }).help) {
        io.out(`${withGuide(usage)}\n`);
        return 0;
    }
    return parsed;
}

/**
 * Every problem of a command line, one sentence each: an unknown option (with the options there are), a value
 * missing or given where none is taken, an argument where the command takes none. Node's parseArgs would stop at
 * the first and say it in its own words.
 */
export function commandLineProblems(argv: string[], options: OptionsConfig, allowPositionals: boolean): string[] {
    const { tokens } = parseArgs({ args: argv, allowPositionals: true, strict: false, tokens: true, options });
    const names = Object.entries(options).map(([name, o]) => `${o.short ? `-${o.short}/` : ""}--${name}`).join(", ");
    const problems: string[] = [];
    for (const t of tokens) {
        if (t.kind === "positional" && !allowPositionals) problems.push(`unexpected argument '${t.value}': this command takes options only (${names})`);
        if (t.kind !== "option") continue;
        const declared = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
        if (!declared) problems.push(`unknown option ${t.rawName} (the options are ${names})`);
        // Like parseArgs: a separate value that looks like an option is one, but "-" alone is a value (stdin).
        else if (declared.type === "string" && (t.value === undefined || (!t.inlineValue && t.value.length > 1 && t.value.startsWith("-")))) {
            problems.push(`option ${t.rawName} needs a value${t.value ? ` (got the option ${t.value}; for a value starting with '-' write ${t.rawName}=VALUE)` : ""}`);
        } else if (declared.type === "boolean" && t.inlineValue) problems.push(`option ${t.rawName} takes no value (got '${t.value}')`);
    }
    return problems;
}

/** Says what is wrong with the command line, then the usage; returns exit code 2. */
export function usageError(io: CommandIo, message: string, usage: string): 2 {
    io.err(`${message}\n\n${usage}\n`);
    return 2;
}
