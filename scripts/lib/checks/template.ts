/** `{{ name.path }}` templates in scenario requests; a whole-string template keeps the value's JSON type. */
import * as crypto from "node:crypto";
import { InputError } from "./errors";

const WHOLE = /^\{\{\s*([\w.-]+)\s*\}\}$/;
const ANY = /\{\{\s*([\w.-]+)\s*\}\}/g;

/** Every reference inside a template value (strings inside objects and arrays too). */
export function references(value: unknown, into: string[] = []): string[] {
    if (typeof value === "string") for (const m of value.matchAll(ANY)) into.push(m[1]);
    else if (Array.isArray(value)) value.forEach((v) => references(v, into));
    else if (value && typeof value === "object") Object.values(value).forEach((v) => references(v, into));
    return into;
}

function lookup(context: Record<string, unknown>, ref: string, field: string): unknown {
    if (ref === "uuid") return crypto.randomUUID();
    if (ref === "now") return new Date().toISOString();
    let v: unknown = context;
    for (const part of ref.split(".")) {
        if (v === null || typeof v !== "object" || !(part in v)) throw new InputError(field, `{{ ${ref} }} is not set`);
        v = (v as Record<string, unknown>)[part];
    }
    return v;
}

export function render(value: unknown, context: Record<string, unknown>, field: string): unknown {
    if (typeof value === "string") {
        const whole = WHOLE.exec(value);
        if (whole) return lookup(context, whole[1], field);
        return value.replace(ANY, (_, ref: string) => {
            const v = lookup(context, ref, field);
            return typeof v === "object" ? JSON.stringify(v) : String(v);
        });
    }
    if (Array.isArray(value)) return value.map((v, i) => render(v, context, `${field}[${i}]`));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, context, `${field}.${k}`)]));
    return value;
}
