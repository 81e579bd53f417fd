/**
 * Finds a secret in text the way someone reading a log would: any 8 characters of it in a row, or 12 of
 * its base64 / base64url (at any byte offset), or of its URL-encoded form. Written apart from the
 * redactor, so a redactor bug cannot hide itself.
 */
import assert from "node:assert/strict";

function windows(text: string, size: number): string[] {
    const out: string[] = [];
    for (let i = 0; i + size <= text.length; i++) out.push(text.slice(i, i + size));
    return out;
}

/** Pieces whose presence in a text means the secret (or a part of it) leaked. */
export function leakPieces(secret: string): string[] {
    const pieces = new Set(windows(secret, 8));
    for (let offset = 0; offset < 3; offset++) {
        const b64 = Buffer.from(secret.slice(offset)).toString("base64").replace(/=+$/, "").slice(0, -3);
        for (const w of windows(b64, 12)) {
            pieces.add(w);
            pieces.add(w.replace(/\+/g, "-").replace(/\//g, "_"));
        }
    }
    for (const w of windows(encodeURIComponent(secret), 8)) pieces.add(w);
    return [...pieces];
}

/** Fails naming the channel if any text holds a piece of any secret. */
export function assertNoLeak(secrets: string[], channels: Record<string, string>): void {
    const pieces = secrets.flatMap((s) => (s.includes("-----BEGIN") ? s.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----")) : [s])).flatMap(leakPieces);
    for (const [channel, text] of Object.entries(channels)) {
        const found = pieces.find((p) => text.includes(p));
        assert.equal(found, undefined, `${channel} holds a piece of a secret`);
    }
}
