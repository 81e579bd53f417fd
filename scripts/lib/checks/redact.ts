/**
 * The last line of defence: no secret, and no part of one, reaches a reason, a report or the terminal.
 * A value answered by a bank or a host may hold a cut or an encoding of a secret (a username with the
 * password after a colon, a base64 Basic header, a URL-encoded form field), so every run of at least
 * FRAGMENT characters of a secret, or of its base64, base64url, URL-encoded or JSON-escaped forms, is masked.
 */
import * as crypto from "node:crypto";
import { MASK } from "../secret-values";

/** Shortest run of a secret's characters that is masked wherever it appears. */
export const FRAGMENT = 8;
/** Shorter secrets are masked only whole, and not below this length (they would mask ordinary words). */
const MIN_WHOLE = 6;

/** The forms a secret travels in: itself, base64 and base64url at each of the three byte offsets, URL-encoded, JSON-escaped. */
function forms(value: string): string[] {
    const out = new Set<string>([value]);
    const bytes = Buffer.from(value, "utf8");
    // base64 of a cut of the secret lines up with the base64 of the secret from one of three byte offsets.
    for (let offset = 0; offset < 3 && offset < bytes.length; offset++) {
        const b64 = bytes.subarray(offset).toString("base64");
        // The last characters depend on what follows the cut: drop them (and the padding).
        const stable = b64.replace(/=+$/, "").slice(0, -2);
        out.add(stable);
        out.add(stable.replace(/\+/g, "-").replace(/\//g, "_"));
    }
    out.add(encodeURIComponent(value));
    out.add(encodeURIComponent(value).replace(/%20/g, "+"));
    out.add(JSON.stringify(value).slice(1, -1));
    return [...out].filter((f) => f.length >= FRAGMENT);
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

export class Redactor {
    /** Every FRAGMENT-character window of every form of every secret. */
    private readonly windows = new Set<string>();
    /** Secrets too short for windows, masked whole. */
    private readonly short = new Set<string>();

    /** Registers a secret (a PEM: its base64 body, and its key's private JWK members). */
    add(value: unknown): void {
        if (typeof value !== "string" || value.length < MIN_WHOLE) return;
        if (value.length < FRAGMENT) {
            this.short.add(value);
            return;
        }
        const parts = [value];
        if (value.includes("-----BEGIN")) {
            const body = value.split(/\r?\n/).filter((l) => l && !l.startsWith("-----"));
            parts.push(body.join(""), ...body, ...privateJwkMembers(value));
        }
        for (const part of parts) {
            for (const form of forms(part)) {
                for (let i = 0; i + FRAGMENT <= form.length; i++) this.windows.add(form.slice(i, i + FRAGMENT));
            }
        }
    }

    /** [start, end) runs of text made of windows of a secret. */
    private runs(text: string): [number, number][] {
        const runs: [number, number][] = [];
        for (let i = 0; i + FRAGMENT <= text.length; i++) {
            if (!this.windows.has(text.slice(i, i + FRAGMENT))) continue;
            const last = runs[runs.length - 1];
            if (last && i <= last[1]) last[1] = i + FRAGMENT;
            else runs.push([i, i + FRAGMENT]);
        }
        return runs;
    }

    /** True when text holds a secret or a part of one (FRAGMENT characters or more, in any known form). */
    reveals(text: string): boolean {
        return this.runs(text).length > 0 || [...this.short].some((v) => text.includes(v));
    }

    redact(text: string): string {
        for (const v of this.short) text = text.split(v).join(MASK);
        let out = "";
        let at = 0;
        for (const [start, end] of this.runs(text)) {
            out += text.slice(at, start) + MASK;
            at = end;
        }
        return out + text.slice(at);
    }
}
