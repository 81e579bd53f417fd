/**
 * Two offline renders generate different random values (passwords, keys, auto-name suffixes) even when nothing
 * changed. Where the generating resource is unchanged, the later render's values (and what is derived from them:
 * public JWK members, kid thumbprints, base64 forms) are mapped back to the earlier render's, so only real
 * changes remain. A generator whose inputs changed keeps its new values: that change is real.
 */
import * as crypto from "node:crypto";
import type { RecordedResource } from "../engine/offline-runtime";
import { isSecretValue, SECRET_KEY } from "../../../domain/secret-values";
import { deepEqual } from "./diff";

const GENERATOR = /^(random|tls):/;
// Shorter values could be ordinary words or numbers that also occur elsewhere.
const MIN_MAPPED = 8;

export function normalizeRandom(before: readonly RecordedResource[], after: readonly RecordedResource[]): RecordedResource[] {
    const old = new Map(before.map((r) => [r.urn, r]));
    const subst = new Map<string, string>();
    let apply = substituter(subst);
    // Generators may take other generators' values as inputs (a certificate signed by a key): repeat until stable.
    for (let pass = 0; pass < 5; pass++) {
        const size = subst.size;
        for (const r of after) {
            const b = old.get(r.urn);
            if (!b) continue;
            if (GENERATOR.test(r.type) && r.custom && deepEqual(apply(r.inputs), b.inputs)) pairLeaves(b.outputs, r.outputs, subst);
            if (r.type.startsWith("kubernetes:")) pairAutoName(b, r, subst);
        }
        apply = substituter(subst);
        if (subst.size === size) break;
    }
    return subst.size ? after.map((r) => ({ ...r, inputs: apply(r.inputs) as Record<string, unknown>, outputs: apply(r.outputs) as Record<string, unknown> })) : [...after];
}

function pairLeaves(a: unknown, b: unknown, subst: Map<string, string>): void {
    const x = isSecretValue(a) ? a[SECRET_KEY] : a;
    const y = isSecretValue(b) ? b[SECRET_KEY] : b;
    if (typeof x === "string" && typeof y === "string") {
        if (x !== y && y.length >= MIN_MAPPED) pair(x, y, subst);
    } else if (Array.isArray(x) && Array.isArray(y)) {
        x.forEach((v, i) => pairLeaves(v, y[i], subst));
    } else if (typeof x === "object" && x !== null && typeof y === "object" && y !== null) {
        for (const k of Object.keys(x)) pairLeaves((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], subst);
    }
}

function pair(oldValue: string, newValue: string, subst: Map<string, string>): void {
    subst.set(newValue, oldValue);
    subst.set(Buffer.from(newValue).toString("base64"), Buffer.from(oldValue).toString("base64"));
    if (newValue.includes("-----BEGIN PUBLIC KEY-----") && oldValue.includes("-----BEGIN PUBLIC KEY-----")) {
        const [o, n] = [publicJwk(oldValue), publicJwk(newValue)];
        if (!o || !n) return;
        for (const k of ["x", "y", "n"]) if (o[k] && n[k] && o[k] !== n[k]) subst.set(n[k], o[k]);
        subst.set(thumbprint(n), thumbprint(o));
    }
}

/** Kubernetes auto-naming (`<name>-<8 random chars>`) picks a new suffix each render. */
function pairAutoName(b: RecordedResource, r: RecordedResource, subst: Map<string, string>): void {
    const auto = new RegExp(`^${r.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[a-z0-9]{8}$`);
    const name = (x: RecordedResource) => (x.outputs.metadata as { name?: unknown } | undefined)?.name;
    const [was, now] = [name(b), name(r)];
    const explicit = (x: RecordedResource) => (x.inputs.metadata as { name?: unknown } | undefined)?.name !== undefined;
    if (typeof was === "string" && typeof now === "string" && was !== now && !explicit(r) && auto.test(was) && auto.test(now)) subst.set(now, was);
}

function publicJwk(pem: string): Record<string, string> | undefined {
    try {
        return crypto.createPublicKey(pem).export({ format: "jwk" }) as Record<string, string>;
    } catch {
        return undefined;
    }
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url), the program's kid. */
export function thumbprint(jwk: Record<string, string>): string {
    const members = jwk.kty === "RSA" ? ["e", "kty", "n"] : jwk.kty === "OKP" ? ["crv", "kty", "x"] : ["crv", "kty", "x", "y"];
    const json = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(",")}}`;
    return crypto.createHash("sha256").update(json).digest("base64url");
}

function substituter(subst: Map<string, string>): (v: unknown) => unknown {
    if (!subst.size) return (v) => v;
    const keys = [...subst.keys()].sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const re = new RegExp(keys.join("|"), "g");
    const walk = (v: unknown): unknown => {
        if (typeof v === "string") return v.length >= MIN_MAPPED ? v.replace(re, (m) => subst.get(m) ?? m) : v;
        if (Array.isArray(v)) return v.map(walk);
        if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        return v;
    };
    return walk;
}
