/**
 * The import arrows of docs/architecture.md hold and are enforced: the lint configuration refuses an import that
 * goes back up (components -> infra, policies -> scripts, bench -> test, domain -> anything of the project), and
 * the tree as it is keeps them.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ESLint, Linter } from "eslint";
import tseslint from "typescript-eslint";
import { PROJECT_ROOT } from "../domain/project";

/** [file the import is planted in, import, whether the arrows allow it]. */
const PLANTED: [string, string, boolean][] = [
    ["components/planted.ts", "../infra/validation", false],
    ["components/planted.ts", "../scripts/lib/cli", false],
    ["components/planted.ts", "../domain/names", true],
    ["components/planted.ts", "./workload", true],
    ["policies/planted.ts", "../scripts/lib/engine/offline-runtime", false],
    ["policies/lib/planted.ts", "../../scripts/lib/cli", false],
    ["policies/planted.ts", "../infra/index", false],
    ["policies/planted.ts", "../domain/images", true],
    ["bench/planted.bench.ts", "../test/policies/fixtures", false],
    ["bench/planted.bench.ts", "../support/fake-jira-server", true],
    ["bench/planted.bench.ts", "../scripts/lib/engine/offline-run", true],
    ["domain/planted.ts", "../infra/validation", false],
    ["domain/planted.ts", "../components/frontend", false],
    ["domain/planted.ts", "../scripts/lib/cli", false],
    ["domain/planted.ts", "./rules", true],
    ["infra/planted.ts", "../scripts/lib/cli", false],
    ["infra/planted.ts", "../components/frontend", true],
    ["scripts/lib/planted.ts", "../../test/policies/fixtures", false],
    ["scripts/lib/planted.ts", "../../infra/validation", true],
    ["support/planted.ts", "../test/policies/fixtures", false],
    ["real/planted.ts", "../infra/validation", false],
];

/** Lints `import ... from spec` as if it were in `file`, with the project's own rule for that file. */
async function importErrors(file: string, spec: string): Promise<string[]> {
    const config = await new ESLint({ cwd: PROJECT_ROOT }).calculateConfigForFile(path.join(PROJECT_ROOT, file));
    const rule = config.rules?.["no-restricted-imports"];
    const linter = new Linter({ configType: "flat", cwd: PROJECT_ROOT });
    const messages = linter.verify(`import { x } from "${spec}";\nexport const y = x;\n`, [
        { files: ["**/*.ts"], languageOptions: { parser: tseslint.parser as Linter.Parser }, rules: rule ? { "no-restricted-imports": rule } : {} },
    ], { filename: path.join(PROJECT_ROOT, file) });
    return messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe("the import arrows", () => {
    for (const [file, spec, allowed] of PLANTED) {
        it(`${allowed ? "lets" : "refuses"} ${file} import ${spec}`, async () => {
            const errors = await importErrors(file, spec);
            if (allowed) assert.deepEqual(errors, []);
            else assert.match(errors.join("\n"), /^no-restricted-imports: .*docs\/architecture\.md/, `${file} -> ${spec} must be refused`);
        });
    }

    it("hold in the tree: no file under components/ imports infra/, under policies/ scripts/, under bench/ test/, under domain/ anything of the project", () => {
        const offenders: string[] = [];
        const rules: [string, RegExp][] = [
            ["components", /from "(\.\.\/)+infra\//], ["policies", /from "(\.\.\/)+scripts\//], ["bench", /from "(\.\.\/)+test\//], ["domain", /from "\.\.\//],
        ];
        for (const [dir, bad] of rules) {
            const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
            for (const f of walk(path.join(PROJECT_ROOT, dir)).filter((f) => /\.(ts|js)$/.test(f))) {
                if (bad.test(fs.readFileSync(f, "utf8"))) offenders.push(path.relative(PROJECT_ROOT, f));
            }
        }
        assert.deepEqual(offenders, []);
    });
});
