/**
 * The platform's default images (issue 23): current releases, pinned by tag and digest, and the DevOps
 * guide's table says the same as Pulumi.yaml.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as YAML from "yaml";
import { imageProblem, parseImageReference } from "../../domain/images";
import { PROJECT_ROOT as ROOT } from "../../domain/project";

const config = (YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { default?: unknown }> }).config;
const image = (key: string) => String(config[key].default);

describe("default images", () => {
    it("the bootstrap runs a supported Node.js LTS line (24 or later), not the stale 22.12.0", () => {
        const { tag } = parseImageReference(image("bootstrapImage"));
        const major = Number(/^(\d+)\./.exec(tag ?? "")?.[1]);
        assert.ok(major >= 24 && major % 2 === 0, `bootstrapImage tag ${tag}: an even (LTS) Node.js major of 24 or later`);
    });

    it("the JWKS server runs nginx's stable line (an even minor, 1.30 or later), not the stale 1.27.3", () => {
        const { repository, tag } = parseImageReference(image("jwksServerImage"));
        assert.equal(repository, "nginxinc/nginx-unprivileged", "the JWKS server must run as nginx's unprivileged uid (restricted Pod Security Standard)");
        const [major, minor] = (/^(\d+)\.(\d+)\./.exec(tag ?? "") ?? []).slice(1).map(Number);
        assert.ok(major === 1 && minor >= 30 && minor % 2 === 0, `jwksServerImage tag ${tag}: nginx stable 1.30 or later`);
    });

    it("every image default is pinned by tag and digest, and docs/devops.md shows the same tag and digest", () => {
        const devops = fs.readFileSync(path.join(ROOT, "docs", "devops.md"), "utf8");
        for (const key of ["kratosImage", "jwksServerImage", "bootstrapImage"]) {
            const ref = image(key);
            assert.equal(imageProblem(ref), undefined, key);
            const { repository, tag, digest } = parseImageReference(ref);
            const row = devops.split("\n").find((l) => l.startsWith(`| \`${key}\``));
            if (!row) continue;
            assert.ok(row.includes(`${repository}:${tag}@${digest!.slice(0, 15)}`), `docs/devops.md's ${key} row says ${row}, Pulumi.yaml ${ref}`);
        }
    });
});
