/**
 * Atlassian Document Format (ADF) builders: Jira Cloud REST v3 takes comment bodies as ADF documents,
 * not wiki markup. Only the node types the onboarding comments use.
 */

/** One ADF node. */
export interface AdfNode {
    type: string;
    attrs?: Record<string, unknown>;
    content?: AdfNode[];
    text?: string;
    marks?: { type: string; attrs?: Record<string, unknown> }[];
}

/** A top-level ADF document (`version: 1`). */
export interface AdfDoc {
    version: 1;
    type: "doc";
    content: AdfNode[];
}

export function doc(...content: AdfNode[]): AdfDoc {
    return { version: 1, type: "doc", content };
}

/** A text run; ADF forbids empty text nodes, so an empty string becomes a single space. */
export function text(value: string, marks: ("strong" | "code" | "em")[] = []): AdfNode {
    const node: AdfNode = { type: "text", text: value === "" ? " " : value };
    if (marks.length > 0) node.marks = marks.map((type) => ({ type }));
    return node;
}

export function link(value: string, href: string): AdfNode {
    return { type: "text", text: value, marks: [{ type: "link", attrs: { href } }] };
}

export function heading(level: 1 | 2 | 3 | 4 | 5 | 6, value: string): AdfNode {
    return { type: "heading", attrs: { level }, content: [text(value)] };
}

export function paragraph(...content: (AdfNode | string)[]): AdfNode {
    return { type: "paragraph", content: content.map((c) => (typeof c === "string" ? text(c) : c)) };
}

export function codeBlock(value: string, language = "text"): AdfNode {
    return { type: "codeBlock", attrs: { language }, content: [text(value)] };
}

export function bulletList(items: (AdfNode | string)[][]): AdfNode {
    return { type: "bulletList", content: items.map((item) => ({ type: "listItem", content: [paragraph(...item)] })) };
}

/** A table with a header row; every cell holds one paragraph of text. */
export function table(header: string[], rows: string[][]): AdfNode {
    const row = (cells: string[], cellType: "tableHeader" | "tableCell"): AdfNode => ({
        type: "tableRow",
        content: cells.map((c) => ({ type: cellType, content: [paragraph(c)] })),
    });
    return { type: "table", attrs: { isNumberColumnEnabled: false, layout: "default" }, content: [row(header, "tableHeader"), ...rows.map((r) => row(r, "tableCell"))] };
}

/** Every text in a document, in order: for tests and for plain-text logs of what was posted. */
export function plainText(node: AdfDoc | AdfNode): string {
    const parts: string[] = [];
    const walk = (n: AdfNode | AdfDoc) => {
        if ("text" in n && typeof n.text === "string") parts.push(n.text);
        for (const c of n.content ?? []) walk(c);
    };
    walk(node);
    return parts.join("\n");
}
