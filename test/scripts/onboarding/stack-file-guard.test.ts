/**
 * writeStackFile's own guard: an alias that is not a DNS label is refused before anything is written, even
 * when a caller skipped validation, so a hostile alias can never place or create a file by path tricks.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { writeStackFile } from "../../../scripts/lib/onboarding/stack-file";
import { ProjectFile, readProject } from "../../../scripts/lib/engine/stack-config";
import { PROJECT_ROOT } from "../../../domain/project";

const BANK = { alias: "", displayName: "Hostile Bank", firstEmployeeEmail: "officer@hostile.example", keyKeeperUrl: "https://keeper.hostile.example" };

/** Every file and directory under dir, relative, sorted. */
function tree(dir: string): string[] {
    return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe("writeStackFile refuses an alias that is not a DNS label", () => {
    let parent: string;
    let project: ProjectFile;
    before(() => {
        // The project sits one level down, so a path that climbs out of it lands where the test can still see it.
        parent = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-guard-"));
        const dir = path.join(parent, "project");
        fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        project = readProject(dir);
    });
    after(() => fs.rmSync(parent, { recursive: true, force: true }));

    const HOSTILE = [
        "../x", "x/../../escaped", "../../escaped", "/tmp/escaped", "demo/../../../escaped", "..", ".",
        "Demo", "demo_bank", "demo-", "1demo", "", "demo\nconfig: {}", "demo\u2028x", "demo.bank", "demo bank",
    ];
    for (const alias of HOSTILE) {
        it(`refuses ${JSON.stringify(alias)}, writing nothing anywhere`, () => {
            const before = tree(parent);
            assert.throws(() => writeStackFile(project, alias, "DCMOPS-1", { ...BANK, alias }, BANK.displayName), (e: Error) => {
                assert.match(e.message, /^refusing to write a stack file: the alias is not a DNS label/);
                assert.ok(!e.message.includes(alias) || alias === "", "the refusal quotes the hostile alias (it may hold line breaks)");
                return true;
            });
            assert.deepEqual(tree(parent), before);
        });
    }

    it("keeps the refusal short for a long hostile alias", () => {
        const alias = `../${"a".repeat(500)}`;
        assert.throws(() => writeStackFile(project, alias, "DCMOPS-1", { ...BANK, alias }, BANK.displayName), (e: Error) => e.message.length < 140);
    });

    it("writes a valid alias inside the stack directory (the guard is not a blanket refusal)", () => {
        assert.equal(writeStackFile(project, "lviv", "DCMOPS-2", { ...BANK, alias: "lviv" }, BANK.displayName), "created");
        assert.deepEqual(tree(parent).filter((f) => !f.startsWith(path.join("project", "Pulumi.yaml"))), ["project", path.join("project", "stacks"), path.join("project", "stacks", "Pulumi.lviv.yaml")]);
    });
});
