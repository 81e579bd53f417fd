/**
 * The independent scanner (scripts/security-scan.sh, `npm run scan`): checkov's Kubernetes checks over every
 * rendered stack find nothing that is neither fixed nor skipped with a reason; the scanner does find a
 * weakness when there is one; and no skip is stale. The script installs its pinned checkov on first use.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import { PROJECT_ROOT } from "../../domain/project";

const SCRIPT = path.join(PROJECT_ROOT, "scripts", "security-scan.sh");
// The version the script pins, read from it so there is one place to change it.
const CHECKOV_VERSION = /^CHECKOV_VERSION="?([\d.]+)"?/m.exec(fs.readFileSync(SCRIPT, "utf8"))?.[1] ?? "";
const STACKS = fs.readdirSync(path.join(PROJECT_ROOT, "stacks")).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => Boolean(s)).sort();

/** Runs the scan script; installing checkov and rendering every stack takes a while. */
function scan(args: string[]) {
    const run = spawnSync("bash", [SCRIPT, ...args], { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 600_000 });
    return { status: run.status, out: `${run.stdout}\n${run.stderr}` };
}

/** The skipped check ids of .checkov.yaml with the comment written above each. */
function skips(): { id: string; reason: string }[] {
    const doc = YAML.parseDocument(fs.readFileSync(path.join(PROJECT_ROOT, ".checkov.yaml"), "utf8"));
    const list = doc.get("skip-check") as YAML.YAMLSeq<YAML.Scalar<string>>;
    // The yaml library hangs the first item's comment on the list itself.
    return list.items.map((item, i) => ({ id: String(item.value), reason: ((i === 0 ? list.commentBefore : item.commentBefore) ?? "").trim() }));
}

describe("checkov over every rendered stack", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-scan-"));
    let result: { status: number | null; out: string };

    before(() => {
        // Said before the scan starts: its output is captured, and a first install is minutes of silence otherwise.
        const cache = path.join(process.env.DCM_REAL_CACHE ?? path.join(os.homedir(), ".cache", "dcm-integration"), `checkov-${CHECKOV_VERSION}`);
        if (!fs.existsSync(path.join(cache, "bin", "checkov"))) process.stderr.write(`checkov ${CHECKOV_VERSION} is not installed yet: the scan installs it from PyPI into ${cache} first (about 2 minutes)\n`);
        result = scan(["--out", out]);
    });
    after(() => fs.rmSync(out, { recursive: true, force: true }));

    it("finds nothing that is neither fixed nor skipped with a reason, in every stack", () => {
        assert.equal(result.status, 0, result.out);
        for (const stack of STACKS) assert.ok(fs.existsSync(path.join(out, stack, "manifests.yaml")), `${stack} was scanned`);
        assert.equal((result.out.match(/Passed checks: \d+, Failed checks: 0/g) ?? []).length, STACKS.length, result.out);
    });

    it("has a reason next to every skip, and no stale skip: each skipped check still fails somewhere without it", () => {
        const skipped = skips();
        assert.ok(skipped.length > 0);
        for (const { id, reason } of skipped) {
            assert.match(id, /^CKV_K8S_\d+$/);
            assert.ok(reason.length >= 80, `${id}: the reason next to the skip says why, and for which objects`);
        }
        const checkov = path.join(process.env.DCM_REAL_CACHE ?? path.join(os.homedir(), ".cache", "dcm-integration"), "checkov-3.3.30", "bin", "checkov");
        const files = STACKS.flatMap((s) => ["--file", path.join(out, s, "manifests.yaml")]);
        const run = spawnSync(checkov, [...files, "--framework", "kubernetes", "--check", skipped.map((s) => s.id).join(","), "--output", "json", "--quiet", "--skip-download"],
            // Not from the repository: checkov would read .checkov.yaml there, whose skips exclude these very checks.
            { cwd: out, encoding: "utf8", timeout: 300_000 });
        const reports = [JSON.parse(run.stdout)].flat() as { results: { failed_checks: { check_id: string }[] } }[];
        const failing = new Set(reports.flatMap((r) => r.results.failed_checks.map((c) => c.check_id)));
        for (const { id } of skipped) assert.ok(failing.has(id), `${id} is skipped but fails nowhere: remove the skip`);
    });
});

describe("checkov on a weak manifest", () => {
    it("reports it and exits 1: the scanner runs with our configuration and does not skip everything", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dcm-scan-bad-"));
        try {
            const file = path.join(dir, "manifests.yaml");
            fs.writeFileSync(file, YAML.stringify({
                apiVersion: "apps/v1", kind: "Deployment",
                metadata: { name: "weak", namespace: "bank-demo-integrate" },
                spec: {
                    selector: { matchLabels: { app: "weak" } },
                    template: {
                        metadata: { labels: { app: "weak" } },
                        spec: { hostNetwork: true, containers: [{ name: "weak", image: "nginx:latest", securityContext: { privileged: true } }] },
                    },
                },
            }));
            const { status, out } = scan(["--manifests", file]);
            assert.equal(status, 1, out);
            for (const id of ["CKV_K8S_16", "CKV_K8S_19", "CKV_K8S_14"]) assert.match(out, new RegExp(`${id}\\b`), `${id} (privileged, host network, latest tag)`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses bad usage with exit 2", () => {
        assert.equal(scan(["--no-such-flag"]).status, 2);
        assert.equal(scan(["no-such-stack"]).status, 2);
        assert.equal(scan(["--help"]).status, 0);
    });
});
