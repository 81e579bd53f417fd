/**
 * Reads `pulumi preview --json` output (display.PreviewDigest in pulumi/pulumi pkg/display/json.go: steps of
 * PreviewStep with apitype.ResourceV3 old/new states, changeSummary, diagnostics) and checks its shape.
 * Pulumi's secret sentinel (state files, stack exports) becomes the program's `{ "$secret": v }` marker here, so
 * everything after this sees one kind of secret; a failed preview (error diagnostics) is read, not refused.
 */
import * as crypto from "node:crypto";
import { MASK, SECRET_KEY } from "../../../domain/secret-values";

export class AuditInputError extends Error {}

/** The key and value that mark a secret in Pulumi's serialized properties (resource.SigKey, resource.SecretSig). */
export const PULUMI_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const PULUMI_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** What Pulumi writes for a value not known until apply (computedValuePlaceholder). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Deeper property values are refused: Kubernetes objects are far shallower, and recursion stays bounded. */
export const MAX_DEPTH = 64;
/** A terminal control sequence (colour, underline): `pulumi preview --json` keeps those the program printed. */
// eslint-disable-next-line no-control-regex -- the escape character (ESC, 0x1b) is what it matches
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export const STEP_OPS = [
    "same", "create", "update", "delete", "replace", "create-replacement", "delete-replaced", "read", "read-replacement",
    "refresh", "discard", "discard-replaced", "remove-pending-replace", "import", "import-replacement",
] as const;
export type StepOp = (typeof STEP_OPS)[number];

const DIFF_KINDS = ["add", "add-replace", "delete", "delete-replace", "update", "update-replace"];

export interface ResourceState {
    urn: string;
    type: string;
    custom: boolean;
    id?: string;
    parent?: string;
    protect: boolean;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    additionalSecretOutputs: string[];
    /**
     * Per input property, the URNs of the resources its value came from (the state's propertyDependencies): where a
     * secret value is blinded whole, what it was made from is all a preview can say about why it changes.
     */
    propertyDependencies: Record<string, string[]>;
}

export interface PropertyDiff {
    kind: string;
    inputDiff: boolean;
}

export interface PreviewStep {
    op: StepOp;
    urn: string;
    /** Stack (bank alias) from the URN. */
    bank: string;
    type: string;
    name: string;
    oldState?: ResourceState;
    newState?: ResourceState;
    diffReasons: string[];
    replaceReasons: string[];
    detailedDiff?: Record<string, PropertyDiff>;
    /** URN of the provider that performs the step (`...::pulumi:providers:kubernetes::default_4_18_0::<id>`). */
    provider?: string;
}

export interface PreviewDocument {
    file: string;
    /** SHA-256 (hex) of the file's bytes as read, for the report's evidence. */
    sha256: string;
    /** The stack (bank alias): from the steps' URNs, else the diagnostics' URNs, else the config's alias. */
    bank?: string;
    config: Record<string, string>;
    steps: PreviewStep[];
    diagnostics: { urn?: string; severity: string; message: string }[];
    /** Pulumi's own counts per step op; absent when the preview failed before its summary. */
    changeSummary?: Record<string, number>;
    /** The preview failed: Pulumi reported an error diagnostic (the program threw, a resource is refused...). */
    failed: boolean;
    /** Pulumi's MaybeCorrupt: one or more resources may be corrupt. */
    maybeCorrupt: boolean;
}

export interface UrnParts {
    stack: string;
    project: string;
    type: string;
    name: string;
}

/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>`; undefined when it is not one. */
export function parseUrn(urn: string): UrnParts | undefined {
    if (!urn.startsWith("urn:pulumi:")) return undefined;
    const parts = urn.slice("urn:pulumi:".length).split("::");
    if (parts.length < 4 || !parts[0] || !parts[2]) return undefined;
    const qualified = parts[2];
    return { stack: parts[0], project: parts[1], type: qualified.slice(qualified.lastIndexOf("$") + 1), name: parts.slice(3).join("::") };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`);

/** Parses and checks a preview document; every problem is named (field path and rule) in one AuditInputError. */
export function parsePreview(input: string | Buffer, file: string, digest?: string): PreviewDocument {
    // A string is hashed as its UTF-8 bytes, the same digest as of the file it was read from; a caller that hashed
    // the bytes it read passes the digest.
    const sha256 = digest ?? crypto.createHash("sha256").update(input).digest("hex");
    let raw: unknown;
    try {
        raw = JSON.parse(typeof input === "string" ? input : input.toString("utf8"));
    } catch (e) {
        throw new AuditInputError(`${file} is not valid JSON (${(e as Error).message}); expected the output of \`pulumi preview --json\`.`);
    }
    const problems: string[] = [];
    const problem = (where: string, rule: string, v: unknown) => {
        if (problems.length < 20) problems.push(`${where} ${rule}, got ${typeName(v)}`);
    };
    if (!isObject(raw)) throw new AuditInputError(`${file}: the document must be a JSON object with \`steps\` (pulumi preview --json), got ${typeName(raw)}.`);
    // A failed preview has diagnostics and nothing else: still a preview, and its failure is the finding.
    if (!("steps" in raw) && !("changeSummary" in raw) && !("diagnostics" in raw)) {
        throw new AuditInputError(`${file}: none of \`steps\`, \`changeSummary\` or \`diagnostics\` is present; this is not \`pulumi preview --json\` output.`);
    }
    const stepsRaw = raw.steps ?? [];
    const steps: PreviewStep[] = [];
    if (!Array.isArray(stepsRaw)) problem("steps", "must be an array", stepsRaw);
    else stepsRaw.forEach((s, i) => {
        const step = parseStep(s, `steps[${i}]`, problem);
        if (step) steps.push(step);
    });
    const config: Record<string, string> = {};
    if (raw.config !== undefined) {
        if (!isObject(raw.config)) problem("config", "must be an object of strings", raw.config);
        else for (const [k, v] of Object.entries(raw.config)) {
            // PreviewDigest.Config is map[string]string: structured config arrives as JSON text.
            if (typeof v !== "string") problem(`config[${JSON.stringify(k)}]`, "must be a string", v);
            else config[k] = v;
        }
    }
    const diagnostics: PreviewDocument["diagnostics"] = [];
    if (raw.diagnostics !== undefined) {
        if (!Array.isArray(raw.diagnostics)) problem("diagnostics", "must be an array", raw.diagnostics);
        else raw.diagnostics.forEach((d, i) => {
            if (!isObject(d)) return problem(`diagnostics[${i}]`, "must be an object", d);
            if (d.message !== undefined && typeof d.message !== "string") return problem(`diagnostics[${i}].message`, "must be a string", d.message);
            diagnostics.push({
                urn: typeof d.urn === "string" && d.urn ? d.urn : undefined,
                severity: typeof d.severity === "string" ? d.severity : "info",
                // The language host colours what it prints (Node's inspect of an error): terminal escapes are no text.
                message: `${typeof d.prefix === "string" ? d.prefix : ""}${(d.message as string | undefined) ?? ""}`.replace(ANSI_ESCAPE, ""),
            });
        });
    }
    let changeSummary: Record<string, number> | undefined;
    if (raw.changeSummary !== undefined && raw.changeSummary !== null) {
        if (!isObject(raw.changeSummary)) problem("changeSummary", "must be an object of counts by operation", raw.changeSummary);
        else {
            changeSummary = {};
            for (const [op, n] of Object.entries(raw.changeSummary)) {
                if (!(STEP_OPS as readonly string[]).includes(op)) problem(`changeSummary[${JSON.stringify(op)}]`, "must be a step operation", op);
                else if (!Number.isInteger(n) || (n as number) < 0) problem(`changeSummary.${op}`, "must be a non-negative integer", n);
                else changeSummary[op] = n as number;
            }
        }
    }
    if (problems.length) {
        throw new AuditInputError(`${file} is not valid \`pulumi preview --json\` output (${problems.length} problem${problems.length > 1 ? "s" : ""}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    const diagnosticStack = diagnostics.map((d) => (d.urn ? parseUrn(d.urn)?.stack : undefined)).find(Boolean);
    const bank = steps[0]?.bank ?? diagnosticStack ?? (config["dcm-integration:alias"] || undefined);
    return {
        file, sha256, bank, config, steps, diagnostics, changeSummary,
        failed: diagnostics.some((d) => d.severity === "error"),
        maybeCorrupt: raw.maybeCorrupt === true,
    };
}

type Problem = (where: string, rule: string, v: unknown) => void;

function parseStep(s: unknown, where: string, problem: Problem): PreviewStep | undefined {
    if (!isObject(s)) return problem(where, "must be an object", s), undefined;
    let ok = true;
    const fail: Problem = (w, r, v) => {
        ok = false;
        problem(w, r, v);
    };
    if (typeof s.op !== "string" || !(STEP_OPS as readonly string[]).includes(s.op)) {
        fail(`${where}.op`, `must be one of ${STEP_OPS.join(", ")}${typeof s.op === "string" ? ` ('${s.op}' is not)` : ""}`, s.op);
    }
    const urn = typeof s.urn === "string" ? parseUrn(s.urn) : undefined;
    if (!urn) fail(`${where}.urn`, "must be a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>)", s.urn);
    const strings = (k: string) => {
        const v = s[k];
        if (v === undefined || v === null) return [];
        if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
            fail(`${where}.${k}`, "must be an array of property names", v);
            return [];
        }
        return v as string[];
    };
    const diffReasons = strings("diffReasons");
    const replaceReasons = strings("replaceReasons");
    let detailedDiff: Record<string, PropertyDiff> | undefined;
    if (s.detailedDiff !== undefined && s.detailedDiff !== null) {
        if (!isObject(s.detailedDiff)) fail(`${where}.detailedDiff`, "must be an object of property diffs", s.detailedDiff);
        else {
            detailedDiff = {};
            for (const [path, d] of Object.entries(s.detailedDiff)) {
                if (!isObject(d) || typeof d.kind !== "string" || !DIFF_KINDS.includes(d.kind)) {
                    fail(`${where}.detailedDiff["${path}"].kind`, `must be one of ${DIFF_KINDS.join(", ")}`, isObject(d) ? d.kind : d);
                } else detailedDiff[path] = { kind: d.kind, inputDiff: d.inputDiff === true };
            }
        }
    }
    const oldState = parseState(s.oldState, `${where}.oldState`, fail);
    const newState = parseState(s.newState, `${where}.newState`, fail);
    if (!ok || !urn) return undefined;
    const provider = typeof s.provider === "string" && s.provider ? s.provider : undefined;
    return { op: s.op as StepOp, urn: s.urn as string, bank: urn.stack, type: urn.type, name: urn.name, oldState, newState, diffReasons, replaceReasons, detailedDiff, provider };
}

function parseState(v: unknown, where: string, fail: Problem): ResourceState | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) return fail(where, "must be a resource state object", v), undefined;
    let ok = true;
    const bad: Problem = (w, r, x) => {
        ok = false;
        fail(w, r, x);
    };
    if (typeof v.type !== "string" || !v.type) bad(`${where}.type`, "must be a type token", v.type);
    if (typeof v.urn !== "string") bad(`${where}.urn`, "must be a string", v.urn);
    for (const k of ["inputs", "outputs"]) if (v[k] !== undefined && v[k] !== null && !isObject(v[k])) bad(`${where}.${k}`, "must be an object", v[k]);
    const aso = v.additionalSecretOutputs;
    if (aso !== undefined && aso !== null && (!Array.isArray(aso) || aso.some((x) => typeof x !== "string"))) {
        bad(`${where}.additionalSecretOutputs`, "must be an array of property names", aso);
    }
    const deps = v.propertyDependencies;
    const propertyDependencies: Record<string, string[]> = {};
    if (deps !== undefined && deps !== null) {
        if (!isObject(deps)) bad(`${where}.propertyDependencies`, "must be an object of URN arrays", deps);
        else for (const [k, urns] of Object.entries(deps)) {
            if (urns === null) continue;
            if (!Array.isArray(urns) || urns.some((x) => typeof x !== "string")) bad(`${where}.propertyDependencies[${JSON.stringify(k)}]`, "must be an array of URNs", urns);
            else propertyDependencies[k] = urns as string[];
        }
    }
    const props: Record<string, Record<string, unknown>> = {};
    for (const k of ["inputs", "outputs"]) {
        const value = v[k];
        if (!isObject(value)) props[k] = {};
        else {
            try {
                props[k] = fromPulumiSecrets(value) as Record<string, unknown>;
            } catch (e) {
                if (!(e instanceof TooDeep)) throw e;
                bad(`${where}.${k}`, `must be nested at most ${MAX_DEPTH} levels deep`, value);
            }
        }
    }
    if (!ok) return undefined;
    return {
        urn: v.urn as string,
        type: v.type as string,
        custom: v.custom === true,
        id: typeof v.id === "string" ? v.id : undefined,
        parent: typeof v.parent === "string" ? v.parent : undefined,
        protect: v.protect === true,
        inputs: props.inputs,
        outputs: props.outputs,
        additionalSecretOutputs: (aso as string[] | undefined) ?? [],
        propertyDependencies,
    };
}

class TooDeep extends Error {}

/**
 * Pulumi's serialized secret (`{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ... }`) with
 * its `plaintext` (JSON text, from `--show-secrets` exports), `value` (the SDK's wire form) or `ciphertext`, as the
 * program's `{ "$secret": value }` marker; a ciphertext's value is never needed, so it is the mask. Values nested
 * deeper than MAX_DEPTH throw TooDeep. What holds no sentinel is returned as it is, not copied.
 */
export function fromPulumiSecrets(v: unknown, depth = 0): unknown {
    if (typeof v !== "object" || v === null) return v;
    if (depth >= MAX_DEPTH) throw new TooDeep();
    if (Array.isArray(v)) {
        let out: unknown[] | undefined;
        v.forEach((x, i) => {
            const y = fromPulumiSecrets(x, depth + 1);
            if (y !== x) (out ??= [...v])[i] = y;
        });
        return out ?? v;
    }
    const o = v as Record<string, unknown>;
    if (o[PULUMI_SIG_KEY] === PULUMI_SECRET_SIG) {
        let inner: unknown = MASK;
        if (typeof o.plaintext === "string") {
            try {
                inner = JSON.parse(o.plaintext);
            } catch {
                inner = o.plaintext;
            }
        } else if ("value" in o) inner = o.value;
        try {
            return { [SECRET_KEY]: fromPulumiSecrets(inner, depth + 1) };
        } catch (e) {
            // A secret too deep to read is still a secret: masked whole.
            if (e instanceof TooDeep) return { [SECRET_KEY]: MASK };
            throw e;
        }
    }
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(o)) {
        const y = fromPulumiSecrets(o[k], depth + 1);
        if (y !== o[k]) (out ??= { ...o })[k] = y;
    }
    return out ?? o;
}
