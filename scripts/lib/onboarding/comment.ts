/**
 * The comments onboarding posts on the ticket (ADF). A result comment carries only public outputs,
 * chosen from an allow-list and never one flagged secret; a last guard masks any secret output value
 * that would still appear.
 */
import { AdfDoc, AdfNode, bulletList, codeBlock, doc, heading, paragraph, table, text } from "../jira/adf";
import { resultLabel } from "../checks/report/table";
import { MASK } from "../../../domain/secret-values";
import type { StackOutput } from "../engine/stack-backend";

/** One post-deploy check's result (scripts/lib/checks CheckReport). */
export interface CheckResultLike {
    id: string;
    step: number | string;
    title: string;
    status: "pass" | "fail" | "skip";
    ms: number;
    reason?: string;
    /** A passing check's warning (a certificate expiring soon); never a secret. */
    warning?: string;
}

/** A post-deploy check run's report (scripts/lib/checks CheckReport). */
export interface CheckReportLike {
    stack: string;
    results: CheckResultLike[];
    passed: boolean;
    ms: number;
}

/** Public outputs the comment shows, in order, with their labels. */
const PUBLIC_OUTPUTS: [string, string][] = [
    ["backofficeUrl", "Backoffice URL"],
    ["backofficeHost", "Backoffice host"],
    ["apiUrl", "API URL"],
    ["apiHost", "API host"],
    ["kratosPublicUrl", "Kratos public URL"],
    ["jwksUrl", "JWKS URL"],
    ["keyKeeperUrl", "Key keeper URL"],
    ["signingAlgorithm", "Signing algorithm"],
    ["kid", "Key id (kid)"],
];

export interface ResultCommentInput {
    stack: string;
    /** created, updated or unchanged. */
    file: string;
    outputs: Record<string, StackOutput>;
    changes: Record<string, number | undefined>;
    checks?: CheckReportLike;
    /** Why checks did not run, if they did not. */
    checksNote?: string;
}

export function resultComment(input: ResultCommentInput): AdfDoc {
    const visible = (key: string): unknown => {
        const o = input.outputs[key];
        return o && !o.secret ? o.value : undefined;
    };
    const facts: AdfNode[][] = [];
    for (const [key, label] of PUBLIC_OUTPUTS) {
        const v = visible(key);
        if (typeof v === "string" && v) facts.push([text(`${label}: `, ["strong"]), text(v, ["code"])]);
    }
    const users = visible("keyKeeperUsernames");
    if (users && typeof users === "object") {
        facts.push([text("Key keeper users: ", ["strong"]), text(Object.entries(users as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(", "), ["code"])]);
    }
    const content: AdfNode[] = [
        heading(3, `Bank '${input.stack}' rolled out`),
        paragraph(`Stack file ${input.file}; resource changes: ${formatChanges(input.changes)}.`),
        bulletList(facts),
    ];
    const pem = visible("publicKeyPem");
    if (typeof pem === "string") content.push(paragraph(text("Public key for JWT signature checks (PEM):", ["strong"])), codeBlock(pem.trim()));
    if (input.checks) {
        const c = input.checks;
        const failed = c.results.filter((r) => r.status === "fail").length;
        content.push(heading(4, `Post-deploy checks: ${c.passed ? "passed" : `${failed} failed`} (${(c.ms / 1000).toFixed(1)} s)`));
        content.push(table(["Step", "Check", "Status", "ms", "Reason"], c.results.map((r) => [String(r.step), r.title, resultLabel({ ...r, step: String(r.step) }), String(Math.round(r.ms)), r.reason ?? r.warning ?? ""])));
    } else {
        content.push(paragraph(`Post-deploy checks: ${input.checksNote ?? "not run"}.`));
    }
    return guard(doc(...content), input.outputs);
}

export function previewComment(stack: string, file: string, hosts: { backoffice: string; api: string }, changes: Record<string, number | undefined>): AdfDoc {
    return doc(
        heading(3, `Bank '${stack}': preview only (dry run)`),
        paragraph(`Stack file ${file}; planned resource changes: ${formatChanges(changes)}. Nothing was deployed.`),
        bulletList([[text("Backoffice host: ", ["strong"]), text(hosts.backoffice, ["code"])], [text("API host: ", ["strong"]), text(hosts.api, ["code"])]]),
    );
}

/** A failure: what went wrong, one line each, and what to do. */
export function failureComment(title: string, lines: string[], advice: string): AdfDoc {
    return doc(heading(3, title), bulletList(lines.map((l) => [l])), paragraph(advice));
}

function formatChanges(changes: Record<string, number | undefined>): string {
    const parts = Object.entries(changes).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`);
    return parts.join(", ") || "none";
}

/** Every string leaf of the secret outputs (at least 6 characters), to mask wherever it would appear. */
export function secretStrings(outputs: Record<string, StackOutput>): string[] {
    const found: string[] = [];
    const walk = (v: unknown) => {
        if (typeof v === "string") {
            if (v.length >= 6) found.push(v);
        } else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    for (const o of Object.values(outputs)) if (o.secret) walk(o.value);
    return found;
}

/** Replaces every secret output value in any text of the document. */
function guard(document: AdfDoc, outputs: Record<string, StackOutput>): AdfDoc {
    const secrets = secretStrings(outputs);
    if (secrets.length === 0) return document;
    return JSON.parse(JSON.stringify(document), (key, value) =>
        key === "text" && typeof value === "string" ? secrets.reduce((t, s) => t.split(s).join(MASK), value) : value) as AdfDoc;
}
