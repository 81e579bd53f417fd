/**
 * Masks every secret before it reaches a report: by the program's knowledge (secret fields by type, fields
 * marked `{ "$secret": v }` or blinded as `[secret]`, additionalSecretOutputs, Kubernetes Secret data),
 * by the plain values of every secret seen so far (wherever else they appear, in every form the domain's one
 * redactor knows), and by shape.
 */
import { Redactor } from "../../../domain/redact";
import { isSecretValue, MASK, SECRET_KEY } from "../../../domain/secret-values";
import { childPath, getPath, parsePath } from "./paths";
import { knownSecretFields } from "./secret-fields";
import { isPublicLeaf, isSecretName, maskByShape } from "./shapes";

// Shorter values would mask ordinary words; generated secrets are far longer.
const MIN_SECRET_VALUE = 8;

/**
 * What scrubbing leaves alone: URNs and type tokens name resources, never hold a secret, and an auditor needs them
 * whole to find the resource (a type like `random:index/randomPassword:RandomPassword` is no `password:` pair).
 */
const IDENTIFIERS = /urn:pulumi:[^\s"'`<>]+|\b[a-z][a-z0-9-]*:[A-Za-z0-9./-]*:[A-Z][A-Za-z0-9]*\b/g;

export class Masker {
    private readonly byType = new Map<string, Set<string>>();
    private readonly byUrn = new Map<string, Set<string>>();
    /** Whole values only: a DSN's host or database name is no secret elsewhere in a report. */
    private readonly values = new Redactor({ fragments: false, minLength: MIN_SECRET_VALUE });

    /** Records that `path` of a resource (or of every resource of its type) holds a secret. */
    addSecretPath(scope: { urn?: string; type?: string }, path: string): void {
        const add = (map: Map<string, Set<string>>, key: string) => {
            let set = map.get(key);
            if (!set) map.set(key, (set = new Set()));
            set.add(path);
        };
        if (scope.urn) add(this.byUrn, scope.urn);
        else if (scope.type) add(this.byType, scope.type);
    }

    /** Records a secret's plain value: it is masked wherever it appears, also inside other strings and encoded. */
    addSecretValue(value: unknown): void {
        if (typeof value === "string") {
            if (value !== MASK) this.values.add(value);
        } else if (Array.isArray(value)) value.forEach((v) => this.addSecretValue(v));
        else if (typeof value === "object" && value !== null) Object.values(value).forEach((v) => this.addSecretValue(v));
        else if (typeof value === "number" && String(value).length >= MIN_SECRET_VALUE) this.addSecretValue(String(value));
    }

    /**
     * Learns from one resource state: `$secret` markers and `[secret]` blinds (their paths, for this resource and
     * its type), additionalSecretOutputs, and the plain values under every secret path.
     */
    learn(urn: string, type: string, props: unknown, additionalSecretOutputs: readonly string[] = []): void {
        for (const key of additionalSecretOutputs) this.addSecretPath({ urn }, key);
        const walk = (v: unknown, path: string, secret: boolean) => {
            if (isSecretValue(v)) {
                if (path) {
                    this.addSecretPath({ urn }, path);
                    this.addSecretPath({ type }, path);
                }
                const inner = v[SECRET_KEY];
                // A value marked secret by itself is one; inside a secret map (a Secret's stringData) only what is not public.
                if (typeof inner !== "object" || inner === null) this.addSecretValue(inner);
                else walk(inner, path, true);
                return;
            }
            // Known secret paths only: a field merely named like a secret is masked in place, its value not hunted elsewhere.
            const nowSecret = secret || (path !== "" && this.isKnownSecretPath(urn, type, path));
            if (v === MASK && path) {
                this.addSecretPath({ urn }, path);
                this.addSecretPath({ type }, path);
            } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, childPath(path, i), nowSecret));
            else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, childPath(path, k), nowSecret);
            // A kid, a username or a public key stored beside the secrets is masked in place but not hunted elsewhere.
            else if (nowSecret && !isPublicLeaf(path, v)) this.addSecretValue(v);
        };
        walk(props, "", false);
    }

    /** Whether a path of a resource is secret by knowledge or by the name of one of its fields. */
    isSecretPath(urn: string, type: string, path: string): boolean {
        return this.isKnownSecretPath(urn, type, path) || isSecretName(lastKey(path));
    }

    /**
     * isSecretPath, and also the `value` of a `{ name, value }` pair whose name looks secret (a container's env var
     * `SMTP_PASSWORD`), looked up in the resource's states (`roots`).
     */
    isSecretPathIn(urn: string, type: string, path: string, roots: readonly unknown[]): boolean {
        if (this.isSecretPath(urn, type, path)) return true;
        if (!/(^|\.)value$/.test(path)) return false;
        let segments;
        try {
            segments = parsePath(path);
        } catch {
            return false;
        }
        const parent = segments.slice(0, -1);
        return roots.some((root) => {
            const pair = getPath(root, parent) as { name?: unknown } | undefined;
            return typeof pair?.name === "string" && isSecretName(pair.name);
        });
    }

    /** Whether a path of a resource is secret by the program's knowledge or what the input marked. */
    isKnownSecretPath(urn: string, type: string, path: string): boolean {
        return Boolean(this.byUrn.get(urn)?.has(path) || this.byType.get(type)?.has(path) || knownSecretFields(type).includes(path));
    }

    /**
     * The value at `path` of a resource with every secret masked: a secret map keeps its keys so readers see what
     * it holds; strings are scrubbed of known secret values and secret shapes.
     */
    mask(urn: string, type: string, path: string, value: unknown, secret = false): unknown {
        if (isSecretValue(value)) return this.mask(urn, type, path, value[SECRET_KEY], true);
        const isSecret = secret || (path !== "" && this.isSecretPath(urn, type, path));
        // What nothing was masked in is returned as it is (the caller tells a masked value by identity).
        if (Array.isArray(value)) {
            let out: unknown[] | undefined;
            value.forEach((v, i) => {
                const m = this.mask(urn, type, childPath(path, i), v, isSecret);
                if (m !== v) (out ??= [...value])[i] = m;
            });
            return out ?? value;
        }
        if (typeof value === "object" && value !== null) {
            let out: Record<string, unknown> | undefined;
            // `{ name: "SMTP_PASSWORD", value: "..." }`: the value is as secret as its name says.
            const name = (value as { name?: unknown }).name;
            const pairSecret = typeof name === "string" && isSecretName(name);
            for (const [k, v] of Object.entries(value)) {
                const m = this.mask(urn, type, childPath(path, k), v, isSecret || (pairSecret && k === "value"));
                if (m !== v) (out ??= { ...value })[k] = m;
            }
            return out ?? value;
        }
        if (isSecret) return value === null || value === undefined ? value : MASK;
        if (typeof value === "string") return this.scrub(value);
        return value;
    }

    /** Free text (a message, a value) with known secret values and secret shapes masked. */
    scrub(text: string): string {
        if (!text.includes(":")) return this.scrubPart(text);
        let out = "";
        let last = 0;
        for (const m of text.matchAll(IDENTIFIERS)) {
            out += this.scrubPart(text.slice(last, m.index)) + m[0];
            last = m.index + m[0].length;
        }
        return out + this.scrubPart(text.slice(last));
    }

    private scrubPart(text: string): string {
        const known = text.length >= MIN_SECRET_VALUE ? this.values.redact(text) : text;
        return maskByShape(known);
    }
}

function lastKey(path: string): string {
    const m = /(?:^|\.)([^.[\]]+)$|\["((?:[^"\\]|\\.)*)"\]$/.exec(path);
    return m ? (m[1] ?? m[2] ?? "") : "";
}
