/**
 * `fleet -- drift`'s report: per bank whether its cluster objects still match its stack's state, and what differs
 * (resource and property names, never values), as a table line, JSON, or JUnit XML for a scheduled CI job.
 */
import type { DriftedResource } from "./stack-backend";

/** One bank's finding. */
export interface DriftOutcome {
    stack: string;
    status: "in-sync" | "drifted" | "error";
    /** The drifted resources (status drifted). */
    resources: DriftedResource[];
    /** Why the check could not run (status error), first line only. */
    error?: string;
    ms: number;
}

/** The table's DETAIL column: `~ ConfigMap jwks [data]; - Service frontend`. */
export function driftDetail(o: DriftOutcome): string {
    if (o.status === "error") return o.error ?? "failed";
    if (o.status === "in-sync") return "no drift";
    const sign = (op: string) => (op === "delete" ? "-" : op === "create" ? "+" : "~");
    const kind = (type: string) => type.split(":").pop() ?? type;
    return o.resources.map((r) => `${sign(r.op)} ${kind(r.type)} ${r.name}${r.properties.length ? ` [${r.properties.join(", ")}]` : ""}`).join("; ");
}

/** The JSON report: every bank, sorted, with the drifted resources' names and properties. */
export function driftJson(outcomes: readonly DriftOutcome[]): string {
    const banks = [...outcomes].sort((a, b) => a.stack.localeCompare(b.stack)).map((o) => ({
        stack: o.stack, status: o.status, seconds: Number((o.ms / 1000).toFixed(1)),
        ...(o.status === "drifted" ? { resources: o.resources.map((r) => ({ type: r.type, name: r.name, op: r.op, properties: r.properties, urn: r.urn })) } : {}),
        ...(o.error ? { error: o.error } : {}),
    }));
    const count = (s: DriftOutcome["status"]) => outcomes.filter((o) => o.status === s).length;
    return `${JSON.stringify({ drifted: count("drifted"), errors: count("error"), inSync: count("in-sync"), banks }, null, 2)}\n`;
}

// XML 1.0 allows only these characters; anything else (controls) is replaced, so a hostile name cannot break the file.
const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
export const xmlEscape = (s: string): string =>
    s.replace(XML_INVALID, "\uFFFD").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");

/** JUnit XML: one testcase per bank, a failure per drifted bank, an error per bank that could not be checked. */
export function driftJunit(outcomes: readonly DriftOutcome[]): string {
    const sorted = [...outcomes].sort((a, b) => a.stack.localeCompare(b.stack));
    const failures = sorted.filter((o) => o.status === "drifted").length;
    const errors = sorted.filter((o) => o.status === "error").length;
    const total = (sorted.reduce((t, o) => t + o.ms, 0) / 1000).toFixed(3);
    const cases = sorted.map((o) => {
        const head = `  <testcase classname="fleet.drift" name="${xmlEscape(o.stack)}" time="${(o.ms / 1000).toFixed(3)}"`;
        if (o.status === "in-sync") return `${head}/>`;
        const tag = o.status === "drifted" ? "failure" : "error";
        const message = o.status === "drifted" ? `${o.resources.length} resource(s) drifted` : (o.error ?? "failed");
        return `${head}>\n    <${tag} message="${xmlEscape(message)}">${xmlEscape(driftDetail(o))}</${tag}>\n  </testcase>`;
    });
    return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="fleet drift" tests="${sorted.length}" failures="${failures}" errors="${errors}" time="${total}">\n${cases.join("\n")}\n</testsuite>\n`;
}
