/** RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits: what Kratos' TOTP method enrols), from node:crypto only. */
import * as crypto from "node:crypto";

/** RFC 4648 base32, as authenticator apps take the secret. */
export function base32Decode(text: string): Buffer {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const clean = text.toUpperCase().replace(/=+$/, "").replace(/\s/g, "");
    let bits = 0;
    let value = 0;
    const out: number[] = [];
    for (const ch of clean) {
        const i = alphabet.indexOf(ch);
        if (i < 0) throw new Error("the TOTP secret is not base32");
        value = (value << 5) | i;
        bits += 5;
        if (bits >= 8) {
            out.push((value >>> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    return Buffer.from(out);
}

/** The code for `secret` (base32) at `time` (ms). */
export function totp(secret: string, time = Date.now(), step = 30, digits = 6): string {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(Math.floor(time / 1000 / step)));
    const mac = crypto.createHmac("sha1", base32Decode(secret)).update(counter).digest();
    const offset = mac[mac.length - 1] & 0x0f;
    const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
    return String(number).padStart(digits, "0");
}
