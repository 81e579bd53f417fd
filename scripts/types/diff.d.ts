// The `diff` package (jsdiff) 4.x ships no types; what scripts/lib/manifest-diff.ts uses of it, as its README documents.
declare module "diff" {
    /** One hunk of a line diff: `lines` start with " ", "-", "+" or "\\" (no newline at end of file). */
    export interface Hunk {
        oldStart: number;
        oldLines: number;
        newStart: number;
        newLines: number;
        lines: string[];
    }
    export interface ParsedDiff {
        oldFileName: string;
        newFileName: string;
        hunks: Hunk[];
    }
    export function structuredPatch(oldFileName: string, newFileName: string, oldStr: string, newStr: string, oldHeader?: string, newHeader?: string, options?: { context?: number }): ParsedDiff;
}
