/**
 * The one redactor: the last line of defence of the logs (onboarding's jsonLogger), the checks' reasons and
 * reports, and the audit's reports. No secret, and no part of one, reaches them. A value answered by a bank or
 * a host may hold a cut or an encoding of a secret (a username with the password after a colon, a base64 Basic
 * header, a URL-encoded form field, a hex dump), so every run of at least FRAGMENT characters of a secret, or of
 * one of its forms (FORMS), is masked. The audit masks whole values only (its secrets include DSNs whose parts,
 * such as a host name, are no secret elsewhere in a report): the same forms, `fragments: false`.
 */
import * as crypto from "node:crypto";
import { MASK } from "./secret-values";

/** Shortest run of a secret's characters that is masked wherever it appears. */
export const FRAGMENT = 8;
/** Shorter secrets are masked only whole, and not below this length (they would mask ordinary words). */
const MIN_WHOLE = 6;

/** Percent-escapes in lowercase hex (%2f), as some clients and servers write them. */
const lowerPercent = (text: string) => text.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/**
 * The forms a secret travels in, each a function of the secret (and, for base64, of the byte offset a cut of it
 * starts at). Each is tested alone with a secret that needs it (test/domain/redact.test.ts).
 */
export const FORMS: Readonly<Record<string, (value: string) => string[]>> = {
    plain: (value) => [value],
    // base64 of a cut of the secret lines up with the base64 of the secret from one of three byte offsets; the
    // last characters depend on what follows the cut: dropped (and the padding), the whole one kept too.
    base64: (value) => base64Cuts(value, "base64"),
    base64url: (value) => base64Cuts(value, "base64url"),
    urlEncoded: (value) => [encodeURIComponent(value)],
    formEncoded: (value) => [encodeURIComponent(value).replace(/%20/g, "+")],
    urlEncodedLowercase: (value) => [lowerPercent(encodeURIComponent(value)), lowerPercent(encodeURIComponent(value).replace(/%20/g, "+"))],
    jsonEscaped: (value) => [JSON.stringify(value).slice(1, -1)],
    hex: (value) => [Buffer.from(value, "utf8").toString("hex")],
    hexUppercase: (value) => [Buffer.from(value, "utf8").toString("hex").toUpperCase()],
};

function base64Cuts(value: string, encoding: "base64" | "base64url"): string[] {
    const bytes = Buffer.from(value, "utf8");
    const out = [bytes.toString(encoding)];
    for (let offset = 0; offset < 3 && offset < bytes.length; offset++) out.push(bytes.subarray(offset).toString(encoding).replace(/=+$/, "").slice(0, -2));
    return out;
}

/** Every form of a value, at least `min` characters long. */
function forms(value: string, min: number): string[] {
    const out = new Set<string>();
    for (const form of Object.values(FORMS)) for (const f of form(value)) if (f.length >= min) out.add(f);
    return [...out];
}

/** The private members of a private key's JWK (d, p, q, ...), another form its secret travels in. */
function privateJwkMembers(pem: string): string[] {
    try {
        const jwk = crypto.createPrivateKey(pem).export({ format: "jwk" }) as Record<string, unknown>;
        return ["d", "p", "q", "dp", "dq", "qi"].map((m) => jwk[m]).filter((v): v is string => typeof v === "string");
    } catch {
        return [];
    }
}

/** How a redactor masks. */
export interface RedactorOptions {
    /** Mask every run of FRAGMENT characters of a secret's forms (default), or only whole values in each form. */
    fragments?: boolean;
    /** Shortest value registered (default 6; the audit's is 8). */
    minLength?: number;
}

export class Redactor {
    /** Every FRAGMENT-character window of every form of every secret. */
    private readonly windows = new Set<string>();
    /** Secrets too short for windows (or, without fragments, every form of every secret), masked whole. */
    private readonly short = new Set<string>();
    private readonly fragments: boolean;
    private readonly minLength: number;
    private wholePattern: RegExp | undefined | null = null;

    constructor(options: RedactorOptions = {}) {
        this.fragments = options.fragments ?? true;
        this.minLength = Math.max(options.minLength ?? MIN_WHOLE, 1);
    }

    /** Registers a secret (a PEM: its base64 body, and its key's private JWK members). */
    add(value: unknown): void {
        if (typeof value !== "string" || value.length < this.minLength) return;
        if (value.length < FRAGMENT) {
            this.addWhole(value);
            return;
        }
        const parts = [value];
        if (value.includes("-----BEGIN")) {
            const body = value.split(/\r?\n/).filter((l) => l && !l.startsWith("-----"));
            parts.push(body.join(""), ...body, ...privateJwkMembers(value));
        }
        for (const part of parts) {
            for (const form of forms(part, this.fragments ? FRAGMENT : this.minLength)) {
                if (!this.fragments) this.addWhole(form);
                else for (let i = 0; i + FRAGMENT <= form.length; i++) this.windows.add(form.slice(i, i + FRAGMENT));
            }
        }
    }

    private addWhole(value: string): void {
        if (this.short.has(value)) return;
        this.short.add(value);
        this.wholePattern = null;
    }

    /** [start, end) runs of text made of windows of a secret. */
    private runs(text: string): [number, number][] {
        const runs: [number, number][] = [];
        if (this.windows.size === 0) return runs;
        for (let i = 0; i + FRAGMENT <= text.length; i++) {
            if (!this.windows.has(text.slice(i, i + FRAGMENT))) continue;
            const last = runs[runs.length - 1];
            if (last && i <= last[1]) last[1] = i + FRAGMENT;
            else runs.push([i, i + FRAGMENT]);
        }
        return runs;
    }

    /** The whole values, longest first, as one pattern. */
    private whole(): RegExp | undefined {
        if (this.wholePattern === null) {
            const sorted = [...this.short].sort((a, b) => b.length - a.length).map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
            this.wholePattern = sorted.length ? new RegExp(sorted.join("|"), "g") : undefined;
        }
        return this.wholePattern;
    }

    /** True when text holds a secret or a part of one (FRAGMENT characters or more, in any known form). */
    reveals(text: string): boolean {
        const whole = this.whole();
        return this.runs(text).length > 0 || (whole !== undefined && text.search(whole) >= 0);
    }

    redact(text: string): string {
        const whole = this.whole();
        if (whole) text = text.replace(whole, MASK);
        let out = "";
        let at = 0;
        for (const [start, end] of this.runs(text)) {
            out += text.slice(at, start) + MASK;
            at = end;
        }
        return out + text.slice(at);
    }
}
