/** parseCommand, which every command in scripts/ parses its arguments with: problems in the project's words, all at once. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { commandLineProblems, parseCommand } from "../../scripts/lib/cli";

const USAGE = "Usage: npm run render -- <stack> [--out DIR]";
const OPTIONS = { out: { type: "string" }, help: { type: "boolean", short: "h" } } as const;

function capture() {
    const io = { outText: "", errText: "", out(t: string) { io.outText += t; }, err(t: string) { io.errText += t; } };
    return io;
}

describe("parseCommand", () => {
    it("names every problem of a command line at once, with the options there are", () => {
        assert.deepEqual(commandLineProblems(["demo", "--bogus", "-x", "--help=yes", "--out"], OPTIONS, true), [
            "unknown option --bogus (the options are --out, -h/--help)",
            "unknown option -x (the options are --out, -h/--help)",
            "option --help takes no value (got 'yes')",
            "option --out needs a value",
        ]);
        assert.deepEqual(commandLineProblems(["--out", "--help"], OPTIONS, true), ["option --out needs a value (got the option --help; for a value starting with '-' write --out=VALUE)"]);
        assert.deepEqual(commandLineProblems(["extra"], OPTIONS, false), ["unexpected argument 'extra': this command takes options only (--out, -h/--help)"]);
        assert.deepEqual(commandLineProblems(["demo", "--out", "dir", "--out=-x", "--out", "-", "-h"], OPTIONS, true), [], "'-' is a value (stdin)");
    });

    it("prints the problems, then the usage, and returns 2; --help prints the usage and returns 0", () => {
        const io = capture();
        assert.equal(parseCommand(["demo", "--bogus"], { out: { type: "string" } }, USAGE, io), 2);
        assert.equal(io.errText, `unknown option --bogus (the options are --out, -h/--help)\n\n${USAGE}\n`);
        const help = capture();
        assert.equal(parseCommand(["--help"], { out: { type: "string" } }, USAGE, help), 0);
        assert.match(help.outText, /^Usage: npm run render[\s\S]*Guide: docs\/devops\.md#rendering-offline\n$/);
        const ok = parseCommand(["demo", "--out", "d"], { out: { type: "string" } }, USAGE, capture());
        assert.ok(typeof ok !== "number" && ok.values.out === "d" && ok.positionals[0] === "demo");
    });
});
