/**
 * The guides hold together: every relative link in the documentation resolves (the file, and the #anchor
 * of a Markdown file), every `npm run <command>` they name is a script of package.json, every flag they
 * give a command is in that command's --help, and every command's --help links to a guide that exists.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { CONFIG_KEYS } from "../domain/config";
import { policies } from "../policies/pack";
import { PROJECT_ROOT } from "../domain/project";

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** Folders that hold no documentation of ours: dependencies, git, render output, Pulumi workspaces. */
const NOT_DOCS = new Set(["node_modules", ".git", "out", ".pulumi"]);

/** The documentation: README.md, the guides under docs/, and every other Markdown file in the repository. */
function docFiles(): string[] {
    const walk = (dir: string): string[] => fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })
        .filter((e) => !NOT_DOCS.has(e.name))
        .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".md") ? [path.join(dir, e.name)] : []));
    return walk(".").map((f) => path.normalize(f)).sort((a, b) => Number(b === "README.md") - Number(a === "README.md") || a.localeCompare(b));
}

// ---------------------------------------------------------------------------------------------------------
// A small Markdown reader: enough to find headings, links, code spans and code blocks, fences respected.

/** A piece of a document outside code blocks (a paragraph, a heading, a table row...) or one logical code line. */
interface Piece {
    kind: "heading" | "text" | "code";
    text: string;
    /** 1-based line where it starts. */
    line: number;
}

const FENCE = /^ {0,3}(?:[-*+] +|\d+\. +)?(`{3,}|~{3,})\s*([\w-]*)/;
/** Code block languages whose lines are commands (flags in them are checked). */
const SHELL_LANGUAGES = new Set(["", "sh", "bash", "shell", "console", "text"]);

function pieces(markdown: string): Piece[] {
    const out: Piece[] = [];
    const lines = markdown.split("\n");
    let fence: { marker: string; shell: boolean } | undefined;
    let paragraph: { text: string; line: number } | undefined;
    let continued: { text: string; line: number } | undefined;
    const flush = () => {
        if (paragraph) out.push({ kind: "text", ...paragraph });
        paragraph = undefined;
    };
    lines.forEach((raw, i) => {
        const line = i + 1;
        const open = FENCE.exec(raw);
        if (fence) {
            if (open && open[1][0] === fence.marker[0] && open[1].length >= fence.marker.length && !open[2]) {
                fence = undefined;
                return;
            }
            if (!fence.shell) return;
            // A shell line ending in a backslash continues on the next one.
            const joined = continued ? { text: `${continued.text} ${raw.trim()}`, line: continued.line } : { text: raw.trim(), line };
            if (raw.trimEnd().endsWith("\\")) continued = { text: joined.text.replace(/\\$/, "").trimEnd(), line: joined.line };
            else {
                continued = undefined;
                out.push({ kind: "code", text: joined.text.replace(/^\$ /, ""), line: joined.line });
            }
            return;
        }
        if (open) {
            flush();
            fence = { marker: open[1], shell: SHELL_LANGUAGES.has(open[2].toLowerCase()) };
            return;
        }
        const heading = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(raw);
        if (heading) {
            flush();
            out.push({ kind: "heading", text: heading[2], line });
            return;
        }
        // Table rows and list items are pieces of their own; other lines join their paragraph.
        if (raw.trim() === "" || /^\s*\|/.test(raw) || /^\s*([-*+]|\d+\.)\s/.test(raw)) flush();
        if (raw.trim() === "") return;
        if (paragraph) paragraph.text += `\n${raw}`;
        else paragraph = { text: raw, line };
        if (/^\s*\|/.test(raw)) flush();
    });
    flush();
    return out;
}

/** The inline code spans of a piece of text, and the text with them blanked out. */
function codeSpans(text: string): { spans: string[]; prose: string } {
    const spans: string[] = [];
    const prose = text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_m, _ticks: string, code: string) => {
        spans.push(code.replace(/\\\|/g, "|").trim());
        return " ";
    });
    return { spans, prose };
}

/** GitHub's anchor for a heading: the rendered text, lowercased, punctuation dropped, spaces to '-'. */
function githubSlug(heading: string): string {
    return heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/<[^>]+>/g, "")
        .replace(/`/g, "")
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats numbered as GitHub does) and explicit ids. */
function anchorsOf(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    for (const p of pieces(markdown)) {
        if (p.kind === "heading") {
            const base = githubSlug(p.text);
            const n = seen.get(base) ?? 0;
            seen.set(base, n + 1);
            anchors.add(n === 0 ? base : `${base}-${n}`);
        }
        if (p.kind !== "code") for (const m of codeSpans(p.text).prose.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
    }
    return anchors;
}

interface Link { target: string; line: number }

function linksOf(markdown: string): Link[] {
    const links: Link[] = [];
    for (const p of pieces(markdown)) {
        if (p.kind === "code") continue;
        const { prose } = codeSpans(p.text);
        for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ target: m[1], line: p.line });
        for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) links.push({ target: m[1], line: p.line });
    }
    return links;
}

/** What is wrong with the relative links of one document (`file:line: ...`), given a reader for other files. */
function brokenLinks(file: string, markdown: string, root: string, read: (abs: string) => string | undefined): string[] {
    const problems: string[] = [];
    for (const { target, line } of linksOf(markdown)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const [rawPath, anchor] = target.split("#", 2);
        const where = `${file}:${line}: link '${target}'`;
        const abs = rawPath === "" ? path.join(root, file) : path.resolve(rawPath.startsWith("/") ? root : path.dirname(path.join(root, file)), decodeURIComponent(rawPath).replace(/^\//, ""));
        if (path.relative(root, abs).startsWith("..")) {
            problems.push(`${where} leaves the repository`);
            continue;
        }
        const text = read(abs);
        if (text === undefined) {
            problems.push(`${where}: no such file or directory`);
            continue;
        }
        if (anchor !== undefined && abs.endsWith(".md") && !anchorsOf(text).has(anchor)) {
            problems.push(`${where}: no heading with anchor #${anchor} in ${path.relative(root, abs)}`);
        }
    }
    return problems;
}

function readFromDisk(abs: string): string | undefined {
    try {
        return fs.statSync(abs).isDirectory() ? "" : fs.readFileSync(abs, "utf8");
    } catch {
        return undefined;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Commands and flags.

/** Other tools whose flags the docs quote (`pulumi up --replace ...`): their flags are not ours to check. */
const OTHER_TOOLS = new Set(["pulumi", "kubectl", "openssl", "curl", "git", "node", "npx", "nvm", "helm", "base64", "jq", "docker", "apt-get", "go", "tsc", "eslint", "kratos"]);
/** Other tools' flags the docs may name on their own, and whose they are. */
const OTHER_TOOLS_FLAGS: Record<string, string> = { "--show-replacement-steps": "pulumi preview", "--show-secrets": "pulumi", "--policy-pack": "pulumi preview" };
const FLAG = /(?<![\w-])--[a-z][a-z0-9-]*/g;
const NPM_RUN = /npm run ([\w:.-]+)/g;

/** A flag the docs name, and the command it was given to (undefined: named on its own, e.g. "`--ca` trusts..."). */
interface NamedFlag { flag: string; command?: string; file: string; line: number }

/** The commands (`npm run <name>`) and flags a document names. */
function commandsAndFlags(file: string, markdown: string): { commands: { name: string; file: string; line: number }[]; flags: NamedFlag[] } {
    const commands: { name: string; file: string; line: number }[] = [];
    const flags: NamedFlag[] = [];
    const scanCode = (code: string, line: number) => {
        const runs = [...code.matchAll(NPM_RUN)];
        if (runs.length === 0) {
            if (OTHER_TOOLS.has(code.trim().split(/\s+/)[0])) return;
            for (const m of code.matchAll(FLAG)) flags.push({ flag: m[0], file, line });
            return;
        }
        runs.forEach((run, i) => {
            commands.push({ name: run[1], file, line });
            // The command's arguments run to the next command, a shell operator or a comment.
            const rest = code.slice(run.index! + run[0].length, runs[i + 1]?.index ?? code.length).split(/&&|\|\||;|\s#|\s\|\s|\s>|2>/)[0];
            for (const m of rest.matchAll(FLAG)) flags.push({ flag: m[0], command: run[1], file, line });
        });
    };
    for (const p of pieces(markdown)) {
        if (p.kind === "code") {
            scanCode(p.text, p.line);
            continue;
        }
        const { spans, prose } = codeSpans(p.text);
        for (const span of spans) scanCode(span, p.line);
        for (const m of prose.matchAll(NPM_RUN)) commands.push({ name: m[1], file, line: p.line });
    }
    return { commands, flags };
}

/** The flags of a --help text, and --help itself. */
function helpFlags(help: string): Set<string> {
    return new Set(["--help", ...[...help.matchAll(FLAG)].map((m) => m[0])]);
}

/** Scripts that run a command of ours, TypeScript (`ts-node --transpile-only FILE`) or shell (`bash FILE`): those have a --help to read. */
function helpCommands(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, script] of Object.entries(pkg.scripts)) {
        const m = /^(?:ts-node --transpile-only (\S+\.ts)|bash (\S+\.sh))$/.exec(script.trim());
        if (m) out.set(name, m[1] ?? m[2]);
    }
    return out;
}

/**
 * A command's --help: in this process through its exported `main` (modules load once, so this is fast), or as
 * a child process for a script without one (its top level is the command) and for a shell script.
 */
async function runHelp(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const abs = path.join(PROJECT_ROOT, file);
    if (/export (async )?function main\(/.test(fs.readFileSync(abs, "utf8"))) {
        let stdout = "";
        const write = process.stdout.write;
        // Commands write text; the test runner's own reports to its parent are binary and pass through.
        process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
            if (typeof chunk !== "string") return write.call(process.stdout, chunk, ...rest);
            stdout += chunk;
            return true;
        }) as typeof process.stdout.write;
        try {
            const code = await (require(abs) as { main(argv: string[]): Promise<number> }).main(["--help"]);
            return { code, stdout, stderr: "" };
        } catch (e) {
            return { code: null, stdout, stderr: (e as Error).message };
        } finally {
            process.stdout.write = write;
        }
    }
    const [command, args] = file.endsWith(".sh") ? ["bash", [file, "--help"]] : [process.execPath, ["--require", "ts-node/register/transpile-only", file, "--help"]];
    return new Promise((resolve) => {
        execFile(command, args, { cwd: PROJECT_ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
        });
    });
}

/** What is wrong with the commands and flags the docs name, given each command's --help (undefined: no help to read). */
function unknownCommandsAndFlags(
    named: ReturnType<typeof commandsAndFlags>[],
    scripts: readonly string[],
    helps: ReadonlyMap<string, string>,
): string[] {
    const problems: string[] = [];
    const flagsOf = new Map([...helps].map(([name, help]) => [name, helpFlags(help)]));
    for (const doc of named) {
        for (const c of doc.commands) if (!scripts.includes(c.name)) problems.push(`${c.file}:${c.line}: 'npm run ${c.name}' is not a script in package.json`);
        const inFile = [...new Set(doc.commands.map((c) => c.name))].filter((n) => flagsOf.has(n));
        // A flag named on its own belongs to a command its document names (to any, if it names none).
        const owners = inFile.length > 0 ? inFile : [...flagsOf.keys()];
        for (const f of doc.flags) {
            if (f.command !== undefined) {
                const known = flagsOf.get(f.command);
                if (known && !known.has(f.flag)) problems.push(`${f.file}:${f.line}: '${f.flag}' is not in the --help of 'npm run ${f.command}'`);
                continue;
            }
            if (!OTHER_TOOLS_FLAGS[f.flag] && !owners.some((n) => flagsOf.get(n)!.has(f.flag))) {
                problems.push(`${f.file}:${f.line}: '${f.flag}' is in the --help of none of ${owners.map((n) => `'npm run ${n}'`).join(", ")}`);
            }
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------------------

describe("the docs checker itself", () => {
    const files: Record<string, string> = {
        "/r/docs/a.md": "# Guide A\n\n## Run it, now!\n\n## Run it, now!\n\n## `npm run x`: the *command*\n",
        "/r/README.md": "",
    };
    const read = (abs: string) => files[abs];

    it("makes GitHub's anchors: punctuation dropped, code marks removed, repeats numbered", () => {
        assert.deepEqual([...anchorsOf(files["/r/docs/a.md"])], ["guide-a", "run-it-now", "run-it-now-1", "npm-run-x-the-command"]);
        assert.equal(githubSlug("Post-deploy checks: does the bank's environment work?"), "post-deploy-checks-does-the-banks-environment-work");
    });

    it("reports a missing file, a missing anchor and a link out of the repository, and ignores links in code", () => {
        const doc = "See [a](docs/a.md#run-it-now-1), [b](docs/b.md), [c](docs/a.md#nowhere), [d](../x.md), [e](https://x.example/y#z).\n\n`[f](nope.md)`\n\n```\n[g](nope.md)\n```\n";
        assert.deepEqual(brokenLinks("README.md", doc, "/r", read), [
            "README.md:1: link 'docs/b.md': no such file or directory",
            "README.md:1: link 'docs/a.md#nowhere': no heading with anchor #nowhere in docs/a.md",
            "README.md:1: link '../x.md' leaves the repository",
        ]);
    });

    it("gives a command's flags to it, a flag on its own to its document's commands, and skips other tools' flags", () => {
        const doc = [
            "## One", "", "```sh", "npm run check -- demo --outputs o.json \\", "  --ca ca.pem && pulumi up --yes", "pulumi preview --diff", "```", "",
            "`--bogus` and `--json` and `pulumi stack output --show-secrets`; `npm run nothing`", "",
            "## Two", "", "`npm run render -- demo --out DIR --ca x`",
        ].join("\n");
        const named = [commandsAndFlags("d.md", doc)];
        const helps = new Map([["check", "--outputs FILE --ca FILE --json FILE"], ["render", "--out DIR"]]);
        assert.deepEqual(unknownCommandsAndFlags(named, ["check", "render"], helps), [
            "d.md:9: 'npm run nothing' is not a script in package.json",
            "d.md:9: '--bogus' is in the --help of none of 'npm run check', 'npm run render'",
            "d.md:13: '--ca' is not in the --help of 'npm run render'",
        ]);
    });
});

describe("links in the docs", () => {
    const files = docFiles();

    it("reads the README, every guide and the READMEs beside the code, and finds links in them", () => {
        const expected = ["README.md", "docs/devops.md", "docs/jira.md", "docs/audit.md", "docs/banks.md", "docs/security.md",
            "policies/README.md", "scenarios/README.md", "reference/key-keeper/README.md"];
        for (const f of expected) assert.ok(files.includes(f), f);
        assert.ok(files.flatMap((f) => linksOf(fs.readFileSync(path.join(PROJECT_ROOT, f), "utf8"))).length > 30, "the link scanner finds the docs' links");
    });

    for (const file of files) {
        it(`${file}: every relative link resolves, #anchors included`, () => {
            assert.deepEqual(brokenLinks(file, fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8"), PROJECT_ROOT, readFromDisk), []);
        });
    }

    it("README.md fits in 150 lines", () => {
        const lines = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8").trimEnd().split("\n").length;
        assert.ok(lines <= 150, `README.md has ${lines} lines`);
    });
});

describe("numbers the docs give", () => {
    it("say as many policies and advisory policies as the pack holds, wherever they are counted", () => {
        const advisory = policies.filter((p) => p.enforcementLevel === "advisory").length;
        const counts = docFiles().flatMap((file) => [...fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8").matchAll(/\b(\d+) policies(?:, (\d+) advisory)?/g)]
            .map((m) => ({ file, said: m[0], total: Number(m[1]), advisory: m[2] === undefined ? undefined : Number(m[2]) })));
        assert.ok(counts.length > 0, "the docs count the policies somewhere");
        const wrong = counts.filter((c) => c.total !== policies.length || (c.advisory !== undefined && c.advisory !== advisory));
        assert.deepEqual(wrong.map((c) => `${c.file}: "${c.said}"`), [], `the pack holds ${policies.length} policies, ${advisory} advisory`);
    });
});

describe("the DevOps guide's references", () => {
    const devops = fs.readFileSync(path.join(PROJECT_ROOT, "docs/devops.md"), "utf8");
    /** The `names` in the first column of the table under a level-2 heading, as often as rows name them (a key twice is a row too many). */
    const firstColumn = (heading: string): string[] => {
        const section = devops.split(/^## /m).find((s) => s.startsWith(`${heading}\n`)) ?? "";
        return section.split("\n").filter((l) => l.startsWith("| `")).flatMap((l) => [...l.split("|")[1].matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]));
    };

    it("documents every config key the program reads, and no other", () => {
        const documented = firstColumn("Configuration");
        assert.deepEqual([...documented].sort(), Object.keys(CONFIG_KEYS).sort());
    });

    it("documents every stack output, and no other", () => {
        const program = fs.readFileSync(path.join(PROJECT_ROOT, "infra/index.ts"), "utf8");
        const outputs = [...program.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
        assert.ok(outputs.length > 10, "the stack's outputs are found");
        assert.deepEqual([...firstColumn("Outputs")].sort(), outputs.sort());
    });
});

describe("commands and flags named in the docs", () => {
    const helps = new Map<string, string>();
    const commands = helpCommands();
    const failures: string[] = [];

    before(async () => {
        for (const [name, file] of commands) {
            const run = await runHelp(file);
            if (run.code === 0 && run.stdout.trim()) helps.set(name, run.stdout);
            else failures.push(`npm run ${name} -- --help: exit ${run.code}, ${run.stderr.split("\n").slice(0, 3).join(" ")}`);
        }
    });

    it("runs every command's --help (exit 0, usage on stdout)", () => {
        assert.deepEqual(failures, []);
        assert.ok(helps.size >= 8, `read ${helps.size} --help texts`);
    });

    it("every command's --help links to its guide, and the link resolves", () => {
        const problems: string[] = [];
        for (const [name, help] of helps) {
            const guide = /Guide: (\S+)/.exec(help)?.[1];
            if (!guide) problems.push(`npm run ${name} -- --help names no guide ('Guide: docs/...')`);
            else problems.push(...brokenLinks(`npm run ${name} -- --help`, `[guide](${guide})`, PROJECT_ROOT, readFromDisk).map((p) => p.replace(/:1: /, ": ")));
        }
        assert.deepEqual(problems, []);
    });

    it("every `npm run <command>` in the docs is a script, and every flag it is given is in its --help", () => {
        const named = docFiles().map((f) => commandsAndFlags(f, fs.readFileSync(path.join(PROJECT_ROOT, f), "utf8")));
        assert.ok(named.flatMap((n) => n.flags).length > 50, "the scanner finds the docs' flags");
        assert.deepEqual(unknownCommandsAndFlags(named, Object.keys(pkg.scripts), helps), []);
    });
});
