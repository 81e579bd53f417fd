/** Shared by the audit tests: fixtures in the real `pulumi preview --json` format, and a report from them. */
import * as fs from "node:fs";
import * as path from "node:path";
import { auditPreviews } from "../../../scripts/lib/audit/from-preview";
import type { AuditReport } from "../../../scripts/lib/audit/model";
import { parsePreview, type PreviewDocument } from "../../../scripts/lib/audit/preview";
import { PROJECT_ROOT } from "../../../domain/project";

export const FIXTURES = path.join(PROJECT_ROOT, "test", "fixtures", "preview");
/** Every plaintext secret planted in the fixtures contains this word; it must never reach a report. */
export const CANARY = "CANARY";

export function fixture(name: string): PreviewDocument {
    const file = path.join(FIXTURES, name);
    return parsePreview(fs.readFileSync(file), file);
}

export function reportOf(...names: string[]): AuditReport {
    return auditPreviews(names.map(fixture));
}

/** A preview document from an object, as Pulumi would write it. */
export function previewOf(doc: unknown, file = "inline.json"): PreviewDocument {
    return parsePreview(JSON.stringify(doc), file);
}

export const rootUrn = (stack: string) => `urn:pulumi:${stack}::dcm-integration::pulumi:pulumi:Stack::dcm-integration-${stack}`;
export const urnOf = (stack: string, qualifiedType: string, name: string) => `urn:pulumi:${stack}::dcm-integration::${qualifiedType}::${name}`;
