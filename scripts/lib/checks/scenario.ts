/**
 * The integration scenario (plan steps 12-16) as data: a YAML file of requests against the DCM API base
 * URL, expected statuses, JSON assertions and captured values. Format: scenarios/README.md.
 */
import * as fs from "node:fs";
import * as YAML from "yaml";
import { parseDuration } from "./duration";
import { CheckFailure, InputError, TransientFailure } from "./errors";
import { HttpClient } from "./http";
import { parseJsonPath, PathPart, select } from "./json-path";
import { references, render } from "./template";
import { ENTITY_USERS } from "../../../domain/entity-users";

export interface Assertion {
    path: string;
    parts: PathPart[];
    exists?: boolean;
    equals?: unknown;
    type?: string;
    matches?: RegExp;
    length?: number;
}

export interface ScenarioStep {
    id: string;
    planStep: string;
    title: string;
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: unknown;
    statuses: number[];
    assertions: Assertion[];
    capture: Record<string, { path: string; parts: PathPart[] }>;
    /** Captured names whose values are secrets (redacted everywhere). */
    secrets: string[];
    poll?: { everyMs: number; forMs: number };
    timeoutMs?: number;
}

export interface Scenario {
    file: string;
    variables: Record<string, unknown>;
    steps: ScenarioStep[];
}

const TYPES = ["string", "number", "boolean", "object", "array", "null"];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
/** Template roots every scenario may use, besides vars.* */
export const BUILTIN_REFS = ["alias", "stack", "apiUrl", "backofficeUrl", "uuid", "now"];
const USER_FIELDS = ["username", "password", "basic"];

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(v: Obj, field: string, known: string[]): void {
    for (const k of Object.keys(v)) {
        if (!known.includes(k)) throw new InputError(`${field}.${k}`, `unknown key (known: ${known.join(", ")})`);
    }
}

function str(v: unknown, field: string): string {
    if (typeof v !== "string" || v === "") throw new InputError(field, v === undefined ? "is required" : "must be a non-empty string");
    return v;
}

function obj(v: unknown, field: string): Obj {
    if (!isObj(v)) throw new InputError(field, "must be a map");
    return v;
}

function checkReference(ref: string, known: Set<string>, field: string): void {
    const [root, name, leaf] = ref.split(".");
    if (BUILTIN_REFS.includes(ref)) return;
    if (root === "vars" && name && !leaf) {
        if (!known.has(name)) throw new InputError(field, `{{ ${ref} }}: no variable '${name}' is declared or captured by an earlier step${known.size ? ` (known: ${[...known].join(", ")})` : ""}`);
        return;
    }
    if (root === "users" && (ENTITY_USERS as readonly string[]).includes(name) && USER_FIELDS.includes(leaf)) return;
    throw new InputError(field, `{{ ${ref} }} is not a known value (use ${BUILTIN_REFS.join(", ")}, vars.<name> or users.<identification|processing>.<${USER_FIELDS.join("|")}>)`);
}

function parseStep(raw: unknown, i: number, known: Set<string>, defaults: Obj): ScenarioStep {
    const field = `steps[${i}]`;
    const s = obj(raw, field);
    onlyKeys(s, field, ["id", "planStep", "title", "request", "expect", "capture", "secrets", "poll", "timeout"]);
    const id = str(s.id, `${field}.id`);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new InputError(`${field}.id`, `'${id}' must be lower-case letters, digits and dashes`);
    const planStep = String(s.planStep ?? "");
    if (!/^\d{1,2}(,\d{1,2})*$/.test(planStep)) throw new InputError(`${field}.planStep`, "is required: the plan step(s), e.g. \"12\" or \"15,16\"");
    const request = obj(s.request, `${field}.request`);
    onlyKeys(request, `${field}.request`, ["method", "path", "headers", "body"]);
    const method = str(request.method ?? "GET", `${field}.request.method`).toUpperCase();
    if (!METHODS.includes(method)) throw new InputError(`${field}.request.method`, `'${method}' is not one of ${METHODS.join(", ")}`);
    const path = str(request.path, `${field}.request.path`);
    if (!path.startsWith("/")) throw new InputError(`${field}.request.path`, "must start with / (it is relative to the DCM API base URL)");
    const headers = { ...(isObj(defaults.headers) ? defaults.headers : {}), ...(request.headers === undefined ? {} : obj(request.headers, `${field}.request.headers`)) };
    for (const [k, v] of Object.entries(headers)) {
        if (typeof v !== "string") throw new InputError(`${field}.request.headers.${k}`, "must be a string");
    }
    const expect = obj(s.expect ?? {}, `${field}.expect`);
    onlyKeys(expect, `${field}.expect`, ["status", "json"]);
    const statuses = (Array.isArray(expect.status) ? expect.status : [expect.status ?? 200]).map((x, j) => {
        if (!Number.isInteger(x) || (x as number) < 100 || (x as number) > 599) throw new InputError(`${field}.expect.status${Array.isArray(expect.status) ? `[${j}]` : ""}`, "must be an HTTP status (100-599)");
        return x as number;
    });
    const jsonRaw = expect.json ?? [];
    if (!Array.isArray(jsonRaw)) throw new InputError(`${field}.expect.json`, "must be a list of assertions");
    const assertions = jsonRaw.map((a, j): Assertion => {
        const af = `${field}.expect.json[${j}]`;
        const o = obj(a, af);
        onlyKeys(o, af, ["path", "exists", "equals", "type", "matches", "length"]);
        const out: Assertion = { path: str(o.path, `${af}.path`), parts: parseJsonPath(o.path as string, `${af}.path`) };
        if (Object.keys(o).length === 1) throw new InputError(af, "needs at least one of exists, equals, type, matches, length");
        if (o.exists !== undefined) {
            if (typeof o.exists !== "boolean") throw new InputError(`${af}.exists`, "must be true or false");
            out.exists = o.exists;
        }
        if ("equals" in o) out.equals = o.equals;
        if (o.type !== undefined) {
            if (!TYPES.includes(o.type as string)) throw new InputError(`${af}.type`, `must be one of ${TYPES.join(", ")}`);
            out.type = o.type as string;
        }
        if (o.matches !== undefined) {
            try {
                out.matches = new RegExp(str(o.matches, `${af}.matches`));
            } catch (e) {
                throw new InputError(`${af}.matches`, `is not a regular expression: ${(e as Error).message}`);
            }
        }
        if (o.length !== undefined) {
            if (!Number.isInteger(o.length) || (o.length as number) < 0) throw new InputError(`${af}.length`, "must be a whole number");
            out.length = o.length as number;
        }
        return out;
    });
    for (const ref of references([path, headers, request.body, assertions.map((a) => a.equals)])) checkReference(ref, known, field);
    const capture: ScenarioStep["capture"] = {};
    for (const [name, p] of Object.entries(s.capture === undefined ? {} : obj(s.capture, `${field}.capture`))) {
        if (!/^[A-Za-z_]\w*$/.test(name)) throw new InputError(`${field}.capture.${name}`, "a captured name is letters, digits and _");
        capture[name] = { path: str(p, `${field}.capture.${name}`), parts: parseJsonPath(p as string, `${field}.capture.${name}`) };
    }
    const secrets = s.secrets === undefined ? [] : s.secrets;
    if (!Array.isArray(secrets) || secrets.some((n) => typeof n !== "string" || !(n in capture))) {
        throw new InputError(`${field}.secrets`, "must list names captured by this step");
    }
    let poll: ScenarioStep["poll"];
    if (s.poll !== undefined) {
        const p = obj(s.poll, `${field}.poll`);
        onlyKeys(p, `${field}.poll`, ["every", "for"]);
        poll = { everyMs: parseDuration(str(p.every, `${field}.poll.every`), `${field}.poll.every`), forMs: parseDuration(str(p.for, `${field}.poll.for`), `${field}.poll.for`) };
    }
    const timeout = s.timeout ?? defaults.timeout;
    for (const name of Object.keys(capture)) known.add(name);
    return {
        id, planStep, title: typeof s.title === "string" ? s.title : id, method, path, headers: headers as Record<string, string>,
        body: request.body, statuses, assertions, capture, secrets: secrets as string[], poll,
        timeoutMs: timeout === undefined ? undefined : parseDuration(String(timeout), `${field}.timeout`),
    };
}

/** Parses and validates a scenario document; every problem is an InputError naming the field. */
export function parseScenario(text: string, file: string): Scenario {
    let doc: unknown;
    try {
        doc = YAML.parse(text);
    } catch (e) {
        throw new InputError(file, `is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    const root = obj(doc, "scenario");
    onlyKeys(root, "scenario", ["version", "description", "variables", "defaults", "steps"]);
    if (root.version !== 1) throw new InputError("scenario.version", "must be 1");
    const variables = root.variables === undefined ? {} : obj(root.variables, "scenario.variables");
    const defaults = root.defaults === undefined ? {} : obj(root.defaults, "scenario.defaults");
    onlyKeys(defaults, "defaults", ["headers", "timeout"]);
    if (!Array.isArray(root.steps) || root.steps.length === 0) throw new InputError("steps", "must be a non-empty list");
    const known = new Set(Object.keys(variables));
    const ids = new Set<string>();
    const steps = root.steps.map((s, i) => {
        const step = parseStep(s, i, known, defaults);
        if (ids.has(step.id)) throw new InputError(`steps[${i}].id`, `'${step.id}' is used twice`);
        ids.add(step.id);
        return step;
    });
    return { file, variables, steps };
}

export function loadScenario(file: string): Scenario {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new InputError("--scenario", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return parseScenario(text, file);
}

function typeOf(v: unknown): string {
    return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Every scalar the scenario itself writes (statuses, amounts, ids...): values a failure message may quote. */
export function scenarioLiterals(scenario: Scenario): Set<string> {
    const out = new Set<string>();
    const walk = (v: unknown, depth: number): void => {
        if (depth > 32) return;
        if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
        else if (isObj(v)) Object.values(v).forEach((x) => walk(x, depth + 1));
        else if (typeof v === "string" && !/\{\{/.test(v)) out.add(JSON.stringify(v));
        else if (typeof v === "number" || typeof v === "boolean" || v === null) out.add(JSON.stringify(v));
    };
    walk(scenario.variables, 0);
    for (const step of scenario.steps) {
        walk(step.body, 0);
        for (const a of step.assertions) walk(a.equals, 0);
    }
    return out;
}

/**
 * A value the API answered, for a failure message. It is quoted only when the scenario itself holds it
 * (so it cannot be a secret the API handed out); otherwise only its type and size are told.
 */
function show(v: unknown, quotable: Set<string>): string {
    const text = JSON.stringify(v) ?? "undefined";
    if (v === undefined || quotable.has(text)) return text;
    if (typeof v === "string") return `a string of ${v.length} characters`;
    if (Array.isArray(v)) return `an array of ${v.length}`;
    return `a ${typeOf(v)}`;
}

/** The scenario's own value (after templates), for a failure message: shown unless it came from a secret. */
function showExpected(v: unknown, path: string): string {
    if (/secret|password|token|key|credential|basic/i.test(path) && typeof v === "string") return `a string of ${v.length} characters`;
    const text = JSON.stringify(v) ?? "undefined";
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Why the response does not meet the step's expectations, or undefined when it does. */
function mismatch(step: ScenarioStep, status: number, body: string, context: Obj, quotable: Set<string>): string | undefined {
    if (!step.statuses.includes(status)) return `${step.method} ${step.path} answered ${status}, expected ${step.statuses.join(" or ")}`;
    if (!step.assertions.length && !Object.keys(step.capture).length) return undefined;
    let doc: unknown;
    try {
        doc = JSON.parse(body);
    } catch {
        return `${step.method} ${step.path} answered ${status} without a JSON body`;
    }
    for (const a of step.assertions) {
        const v = select(doc, a.parts);
        if (a.exists !== undefined && (v !== undefined) !== a.exists) return `${a.path} ${a.exists ? "is missing" : "is present"}`;
        if ("equals" in a) {
            const want = render(a.equals, context, a.path);
            if (JSON.stringify(v) !== JSON.stringify(want)) return `${a.path} is ${show(v, quotable)}, expected ${showExpected(want, a.path)}`;
        }
        if (a.type && typeOf(v) !== a.type) return `${a.path} is ${v === undefined ? "missing" : `of type ${typeOf(v)}`}, expected ${a.type}`;
        if (a.matches && (typeof v !== "string" || !a.matches.test(v))) return `${a.path} is ${show(v, quotable)}, expected to match /${a.matches.source}/`;
        if (a.length !== undefined && (!(Array.isArray(v) || typeof v === "string") || v.length !== a.length)) {
            return `${a.path} has length ${Array.isArray(v) || typeof v === "string" ? v.length : "n/a"}, expected ${a.length}`;
        }
    }
    for (const [name, c] of Object.entries(step.capture)) {
        if (select(doc, c.parts) === undefined) return `nothing to capture as ${name} at ${c.path}`;
    }
    return undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Plays one step: renders the request, sends it (polling while expectations do not hold yet, if the step
 * polls), and stores captures in context.vars. onSecret registers captured secrets for redaction; a failure
 * quotes an answered value only if it is one of `quotable` (JSON texts, the scenario's own values).
 */
export async function playStep(
    step: ScenarioStep, apiUrl: string, context: Obj, http: HttpClient, budgetMs: number, onSecret: (v: unknown) => void, quotable: Set<string> = new Set(),
): Promise<void> {
    const path = render(step.path, context, "path") as string;
    const headers = render(step.headers, context, "headers") as Record<string, string>;
    const body = step.body === undefined ? undefined : JSON.stringify(render(step.body, context, "body"));
    const started = Date.now();
    // Polling stops early enough to report what it last saw, within the attempt's budget.
    const pollUntil = step.poll ? started + Math.min(step.poll.forMs, budgetMs * 0.8) : 0;
    for (;;) {
        const res = await http.request(`${apiUrl}${path}`, {
            method: step.method,
            headers: { accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
            body, timeoutMs: Math.max(100, Math.min(step.timeoutMs ?? budgetMs, budgetMs - (Date.now() - started))),
        });
        if (res.status >= 500) throw new TransientFailure(`${step.method} ${step.path} answered ${res.status}`);
        const why = mismatch(step, res.status, res.body, context, quotable);
        if (!why) {
            const doc = Object.keys(step.capture).length ? JSON.parse(res.body) as unknown : undefined;
            for (const [name, c] of Object.entries(step.capture)) {
                const v = select(doc, c.parts);
                if (step.secrets.includes(name)) onSecret(typeof v === "string" ? v : JSON.stringify(v));
                (context.vars as Obj)[name] = v;
            }
            return;
        }
        if (!step.poll || Date.now() + step.poll.everyMs > pollUntil) throw new CheckFailure(step.poll ? `${why} (still, after polling for ${Date.now() - started} ms)` : why);
        await sleep(step.poll.everyMs);
    }
}
