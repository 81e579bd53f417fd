/** Shared by the audit tests: fixtures in the real `pulumi preview --json` format, and a report from them. */
import * as fs from "node:fs";
import * as path from "node:path";
import { auditPreviews } from "../../../scripts/lib/audit/from-preview";
import type { AuditReport } from "../../../scripts/lib/audit/model";
import { parsePreview, type PreviewDocument } from "../../../scripts/lib/audit/preview";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const FIXTURES = path.join(ROOT, "test", "fixtures", "preview");
/** Every secret planted in the fixtures contains this word; it must never reach a report. */
export const CANARY = "CANARY";

export function fixture(name: string): PreviewDocument {
    const file = path.join(FIXTURES, name);
    return parsePreview(fs.readFileSync(file, "utf8"), file);
}

export function reportOf(...names: string[]): AuditReport {
    return auditPreviews(names.map(fixture));
}
