/**
 * The domain's one redactor, form by form: each form a secret travels in is masked on its own, with a secret
 * whose encoding in that form shares no run of 8 characters with any other form (so dropping the form from
 * FORMS fails exactly its case), and the logs, the checks and the audit all mask through it.
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import { describe, it } from "node:test";
import { FORMS, Redactor } from "../../domain/redact";
import { MASK } from "../../domain/secret-values";
import { Masker } from "../../scripts/lib/audit/masker";
import { checksHttpClient } from "../../scripts/lib/checks/runner";
import { jsonLogger } from "../../scripts/lib/onboarding/log";

const b64 = (t: string, enc: "base64" | "base64url" = "base64") => Buffer.from(t, "utf8").toString(enc);
// Bytes 0x7e ("~") three at a time are "fn5+" in base64 and "fn5-" in base64url: every 8 characters hold a + or a -.
const TILDES = "~".repeat(30);
// "/" and " " alternate: URL-encoded "%2F%20", form-encoded "%2F+", lowercase "%2f%20" / "%2f+".
const SLASH_SPACE = "/ ".repeat(15);

/** [form, secret that needs it, the text a leak would hold]. */
const CASES: [keyof typeof FORMS, string, string][] = [
    // A quote every few characters: URL encoding (%22) and JSON (\\") both change it, so only the plain form holds these runs.
    ["plain", "Zq8\"kL9\"pW4\"xR7\"vT1\"nB6\"cY3\"dH5\"", "Zq8\"kL9\"pW4\"xR7\"vT1\"nB6\"cY3\"dH5\"".slice(3, 26)],
    ["base64", TILDES, b64(TILDES.slice(0, 24))],
    ["base64url", TILDES, b64(TILDES.slice(0, 24), "base64url")],
    ["urlEncoded", SLASH_SPACE, `https://kk.example/key?p=${encodeURIComponent(SLASH_SPACE)}`],
    ["formEncoded", SLASH_SPACE, `p=${encodeURIComponent(SLASH_SPACE).replace(/%20/g, "+")}`],
    ["urlEncodedLowercase", SLASH_SPACE, `p=${encodeURIComponent(SLASH_SPACE).toLowerCase()}&q=${encodeURIComponent(SLASH_SPACE).replace(/%20/g, "+").toLowerCase()}`],
    ["jsonEscaped", "\"\\".repeat(12), JSON.stringify({ echoed: "\"\\".repeat(12) })],
    ["hex", "~~~~~~~~~~~~~~~~", Buffer.from("~~~~~~~~~~~~~~~~").toString("hex")],
    ["hexUppercase", "~~~~~~~~~~~~~~~~", Buffer.from("~~~~~~~~~~~~~~~~").toString("hex").toUpperCase()],
];

/** Every run of 8 characters of the text that a redactor registering only `form` would mask. */
function windowsOf(form: keyof typeof FORMS, secret: string): Set<string> {
    const out = new Set<string>();
    for (const f of FORMS[form](secret)) for (let i = 0; i + 8 <= f.length; i++) out.add(f.slice(i, i + 8));
    return out;
}

describe("the redactor masks each form a secret travels in, each on its own", () => {
    it("has a case for every form it knows", () => {
        assert.deepEqual(CASES.map(([form]) => form).sort(), Object.keys(FORMS).sort());
    });

    for (const [form, secret, leak] of CASES) {
        it(`${form}: masks it, and no other form would`, () => {
            const r = new Redactor();
            r.add(secret);
            assert.ok(r.reveals(leak), `${form}: the leak is seen`);
            const out = r.redact(`before ${leak} after`);
            assert.match(out, /^before .*\[secret\].* after$/);
            // What is left never holds 8 characters in a row of this form.
            const own = windowsOf(form, secret);
            for (let i = 0; i + 8 <= out.length; i++) assert.ok(!own.has(out.slice(i, i + 8)), `${form}: '${out}'`);
            // The case needs its form: no other form's windows would find the leak.
            for (const other of Object.keys(FORMS) as (keyof typeof FORMS)[]) {
                if (other === form) continue;
                const theirs = windowsOf(other, secret);
                for (let i = 0; i + 8 <= leak.length; i++) {
                    const w = leak.slice(i, i + 8);
                    if (own.has(w)) assert.ok(!theirs.has(w), `${form}: '${w}' is also a window of ${other}, so dropping ${form} would go unnoticed`);
                }
            }
        });
    }

    it("whole-value mode (the audit's) masks every form whole and leaves a cut of the secret alone", () => {
        const r = new Redactor({ fragments: false, minLength: 8 });
        r.add(SLASH_SPACE);
        r.add(TILDES);
        for (const [form, secret] of CASES.filter(([, s]) => s === SLASH_SPACE || s === TILDES)) {
            for (const text of FORMS[form](secret).filter((f) => f.length >= 8)) assert.ok(!r.redact(`x ${text} y`).includes(text), `${form}: ${text}`);
        }
        assert.equal(r.redact(`a ${TILDES.slice(0, 10)} b`), `a ${TILDES.slice(0, 10)} b`, "a cut is not the whole value");
    });
});

describe("one redactor behind the logs, the checks and the audit", () => {
    const secret = "CANARY-/ -/ -/ -/ -/ -/ -/ -/ -/ -/";
    const urlForm = encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

    it("the onboarding log masks a part and an encoding of a registered value", () => {
        const lines: string[] = [];
        const log = jsonLogger((l) => lines.push(l));
        log.redact([secret]);
        log.log("info", "x", { part: secret.slice(4, 24), encoded: urlForm, hex: Buffer.from(secret).toString("hex") });
        const doc = JSON.parse(lines[0]) as Record<string, string>;
        assert.deepEqual([doc.part, doc.encoded, doc.hex], [MASK, MASK, MASK]);
    });

    it("the audit's masker masks a secret value in its lowercase URL-encoded and hex forms", () => {
        const m = new Masker();
        m.addSecretValue(secret);
        assert.equal(m.scrub(`p=${urlForm}`), `p=${MASK}`);
        assert.equal(m.scrub(`h=${Buffer.from(secret).toString("hex")}`), `h=${MASK}`);
    });

    it("the checks' HTTP client registers every credential it sends (DCM's short-lived bearer tokens) with the redactor", async () => {
        const server = http.createServer((req, res) => res.end(req.headers.authorization ?? ""));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const port = (server.address() as { port: number }).port;
            const redactor = new Redactor();
            const client = checksHttpClient(redactor, [], []);
            const token = `eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiIke${"x".repeat(20)}.c2lnbmF0dXJl${"y".repeat(20)}`;
            const res = await client.request(`http://127.0.0.1:${port}/key`, { headers: { authorization: `Bearer ${token}` }, timeoutMs: 5000 });
            assert.equal(res.body, `Bearer ${token}`, "the server saw the token");
            assert.equal(redactor.redact(`answered: ${res.body}`), `answered: Bearer ${MASK}`);
            assert.ok(redactor.reveals(token.slice(10, 30)), "a part of the token too");
        } finally {
            server.close();
        }
    });
});
