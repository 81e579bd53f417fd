/**
 * The JSON Schema of the step-8 fields (npm run schema) against the stack config's validator: over values
 * generated from the schema's rules and hostile mutations of them, what the schema accepts the validator
 * accepts, and for the fields the schema states completely, what the schema rejects the validator rejects.
 * The committed docs/bank-fields.schema.json is the generator's output.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import Ajv2020 from "ajv/dist/2020";
import { CONFIG_KEYS } from "../../domain/config";
import { BANK_FIELDS, BankField, bankFieldRules } from "../../domain/rules";
import { validateStackConfig } from "../../infra/validation";
import { ISO_4217_CODES } from "../../domain/iso4217";
import { bankFieldContext, bankFieldsSchema, formatSchema, SCHEMA_FILE } from "../../scripts/lib/bank-fields-schema";
import { MAPPABLE_KEYS, REQUIRED_KEYS } from "../../scripts/lib/onboarding/mapping";
import type { ProjectFile } from "../../scripts/lib/engine/stack-config";
import { main } from "../../scripts/schema";
import { PROJECT, validRaw } from "../../support/configs";
import { PROJECT_ROOT } from "../../domain/project";

const schema = bankFieldsSchema(PROJECT);
// Strict mode: an unknown keyword or a pattern Ajv cannot compile in unicode mode fails here.
const ajv = new Ajv2020({ strict: true, allErrors: true });
const schemaAccepts = ajv.compile(schema);
const properties = schema.properties as Record<BankField, Record<string, unknown>>;

/** The fields whose schema is stricter than the validator (the rest are stated completely). */
const SCHEMA_INCOMPLETE: readonly BankField[] = ["keyKeeperUrl"];
/** Runs per field; SCHEMA_SEED=<n> reproduces a failure's run. */
const RUNS = 2500;
const SEED = Number(process.env.SCHEMA_SEED ?? 20260528);

/** mulberry32: a small seeded PRNG, so every run draws the same values and a failure can be replayed. */
function seeded(seed: number) {
    let a = seed >>> 0;
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
    const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
    const chars = (pool: string, lo: number, hi: number) => Array.from({ length: int(lo, hi) }, () => pick([...pool])).join("");
    return { next, int, pick, chars, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof seeded>;

/** Characters a pasted value may carry: line breaks for some parser, invisible ones, spaces JavaScript trims. */
const HOSTILE = ["\u2028", "\u2029", "\u0085", "\u0000", "\u0007", "\t", "\n", "\r", "\u007f", "\u200b", "\u200d", "\u202e", "\ufeff", "\u00ad", "\u00a0", "\u3000", "\u2003", " "];
/** Letters that look like ASCII ones (Cyrillic, Kelvin sign, long s, dotless i, fullwidth), astral and combining characters. */
const LOOKALIKES = ["\u0430", "\u0435", "\u043e", "\u212a", "\u017f", "\u0131", "\u0130", "\uff4c", "\u0261", "\u{1f3e6}", "\u{1d41a}", "\u0301", "\u00e9"];
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const LABEL = `${LOWER}0123456789-`;

/** A DNS-ish label: mostly valid, sometimes starting or ending with '-', or over 63 characters. */
const label = (r: Rng, max = 20) => r.chars(LABEL, 1, r.chance(0.05) ? 70 : max);
const host = (r: Rng) => Array.from({ length: r.int(1, 4) }, () => label(r, 12)).join(".");

/** Values drawn from each field's rule, crossing its bounds. */
const DRAW: Record<BankField, (r: Rng) => string> = {
    alias: (r) => r.chars(r.chance(0.1) ? `${LABEL}A_.` : LABEL, 1, 50),
    displayName: (r) => r.chance(0.2)
        // Astral characters: 2 UTF-16 units each, 1 code point, so a length rule counting units would disagree.
        ? r.pick(["\u{1f3e6}", "\u{1d41a}", "\u{10348}"]).repeat(r.int(40, 110))
        : Array.from({ length: r.int(1, 12) }, () => r.chars(`${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ'&.,()\u0456\u0457\u0454\u0491`, 1, 12)).join(r.pick([" ", "  ", "-"])),
    firstEmployeeEmail: (r) => {
        const local = r.chars(`${LOWER}0123456789.+_-'\u00e9\u0434`, 1, r.chance(0.05) ? 260 : 20);
        const domain = `${host(r)}.${r.chars(r.chance(0.2) ? `${LOWER}ABC0` : LOWER, 1, 6)}`;
        return r.chance(0.05) ? local : `${local}${r.pick(["@", "@", "@", "@@", " @"])}${domain}`;
    },
    keyKeeperUrl: (r) => {
        const scheme = r.pick(["https://", "https://", "https://", "http://", "HTTPS://", "https:", "ftp://", ""]);
        const userinfo = r.chance(0.05) ? r.pick(["user:pw@", "user@", ":@"]) : "";
        const name = r.chance(0.25)
            ? r.pick(["localhost", "keys.localhost", "127.0.0.1", "10.1.2.3", "192.168.0.1", "203.0.113.7", "8.8.8.8", "[::1]", "[2001:db8::1]",
                "0x7f.1", "2130706433", "127.1", "keys.bank.example.", "KEYS.Bank.Example", "xn--bcher-kva.example", "b\u00fccher.example", "1.2.3.example", "a..b"])
            : `${host(r)}.${r.chars(LOWER, 2, 6)}`;
        const port = r.chance(0.15) ? `:${r.pick([0, 1, 443, 8443, 65535, 65536, 99999])}` : "";
        const p = r.chance(0.6) ? `/${r.chars(`${LOWER}0123456789-._~/%@!$&'()*+,;=:`, 0, 20)}` : "";
        const query = r.chance(0.2) ? `?${r.chars(`${LOWER}=&%/?`, 0, 10)}` : "";
        const fragment = r.chance(0.05) ? "#x" : "";
        return `${scheme}${userinfo}${name}${port}${p}${query}${fragment}`;
    },
    assetCode: (r) => r.pick([
        () => r.pick([...ISO_4217_CODES]),
        () => r.pick([...ISO_4217_CODES]).toLowerCase(),
        () => r.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 2, 4),
        () => `${r.pick([...ISO_4217_CODES])} `,
    ])(),
};

/** One hostile change of a value: an inserted character, padding, repetition, a dropped or swapped character. */
function mutate(r: Rng, value: string): string {
    const cps = [...value];
    const at = r.int(0, cps.length);
    switch (r.int(0, 7)) {
        case 0: return [...cps.slice(0, at), r.pick(HOSTILE), ...cps.slice(at)].join("");
        case 1: return [...cps.slice(0, at), r.pick(LOOKALIKES), ...cps.slice(at)].join("");
        case 2: return r.chance(0.5) ? ` ${value}` : `${value}${r.pick(HOSTILE)}`;
        case 3: return value.repeat(r.int(2, 60));
        case 4: return cps.filter((_, i) => i !== at).join("");
        case 5: return value.toUpperCase();
        case 6: return "";
        default: return [...cps.slice(0, at), r.pick([..."@:/.#?[]%\\\"<>"]), ...cps.slice(at + 1)].join("");
    }
}

/** A valid value of every field, as the schema's own example holds. */
const EXAMPLE = (schema.examples as Record<BankField, string>[])[0];

/**
 * The instance a client sends and the config the validator sees for it. An empty optional field is left out
 * (a Jira form does not send it; the validator reads "" as no value, the default).
 */
function judge(instance: Partial<Record<BankField, unknown>>) {
    const data = Object.fromEntries(Object.entries(instance).filter(([k, v]) => !(v === "" && !bankFieldRules(bankFieldContext(PROJECT))[k as BankField].required)));
    const accepted = schemaAccepts(data);
    const stack = typeof data.alias === "string" ? data.alias : "demo";
    // The step-8 fields come from the instance alone; the rest of a valid stack config around them.
    const raw: Record<string, unknown> = { ...validRaw(stack) };
    for (const k of BANK_FIELDS) delete raw[k];
    Object.assign(raw, data);
    const result = validateStackConfig(raw, stack);
    return { data, accepted, result, problemKeys: result.ok ? [] : result.problems.map((p) => p.key) };
}

describe("the step-8 JSON Schema against the validator", () => {
    it("is valid draft 2020-12 (Ajv strict), and its example passes the schema and the validator", () => {
        assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
        assert.match(String(schema.$id), /^urn:dcm-integration:/);
        const { accepted, result } = judge(EXAMPLE);
        assert.ok(accepted, JSON.stringify(schemaAccepts.errors));
        assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    });

    it("has exactly the step-8 fields, requires what Jira onboarding requires, and refuses any other field", () => {
        assert.deepEqual(Object.keys(properties), [...BANK_FIELDS]);
        assert.ok(BANK_FIELDS.every((k) => (MAPPABLE_KEYS as readonly string[]).includes(k)));
        assert.deepEqual([...(schema.required as string[])].sort(), [...REQUIRED_KEYS].sort());
        assert.equal(schemaAccepts({ ...EXAMPLE, signingKeys: [] }), false);
        for (const key of REQUIRED_KEYS) {
            const rest: Partial<Record<BankField, string>> = { ...EXAMPLE };
            delete rest[key as BankField];
            const { accepted, problemKeys } = judge(rest);
            assert.equal(accepted, false, `${key} missing was accepted`);
            assert.ok(problemKeys.includes(key), `the validator did not miss ${key}`);
        }
    });

    it("describes each field with its config doc, and says in $comment what only the service checks", () => {
        const rules = bankFieldRules(bankFieldContext(PROJECT));
        for (const key of BANK_FIELDS) {
            assert.ok(String(properties[key].description).startsWith(CONFIG_KEYS[key].doc), key);
            assert.equal(rules[key].beyondSchema !== undefined, SCHEMA_INCOMPLETE.includes(key), `${key}: the rule data and this test disagree on whether the schema is complete`);
            assert.equal("$comment" in properties[key], SCHEMA_INCOMPLETE.includes(key), key);
        }
    });

    for (const key of BANK_FIELDS) {
        const complete = !SCHEMA_INCOMPLETE.includes(key);
        it(`${key}: what the schema accepts, the validator accepts${complete ? "; what it rejects, the validator rejects" : ""} (${RUNS} generated values)`, () => {
            const r = seeded(SEED + key.length * 7919);
            const counts = { accepted: 0, rejected: 0, onlyValidator: 0 };
            const disagreements: string[] = [];
            for (let i = 0; i < RUNS; i++) {
                let value = DRAW[key](r);
                for (let m = r.int(0, 2); m > 0; m--) value = mutate(r, value);
                const { accepted, result, problemKeys } = judge({ ...EXAMPLE, [key]: value });
                const validatorRefuses = problemKeys.includes(key);
                if (accepted) counts.accepted++;
                else counts.rejected++;
                if (accepted && !result.ok) disagreements.push(`schema accepts, validator refuses ${JSON.stringify(value)}: ${JSON.stringify(result.problems)}`);
                if (!accepted && !validatorRefuses) {
                    counts.onlyValidator++;
                    if (complete) disagreements.push(`schema rejects, validator accepts ${JSON.stringify(value)}: ${ajv.errorsText(schemaAccepts.errors)}`);
                }
            }
            assert.deepEqual(disagreements.slice(0, 5), [], `seed ${SEED}: ${disagreements.length} disagreements`);
            // Not a vacuous property: the generator reaches both sides of the rule.
            assert.ok(counts.accepted >= RUNS / 20 && counts.rejected >= RUNS / 20, JSON.stringify(counts));
            // A field listed as incomplete really is: values exist that only the validator accepts (e.g. a public IP address).
            if (!complete) assert.ok(counts.onlyValidator > 0, `${key}: the schema rejected nothing the validator accepts; is it complete now?`);
        });
    }

    it("whole submissions: every one the schema accepts, the validator accepts", () => {
        const r = seeded(SEED);
        let accepted = 0;
        for (let i = 0; i < RUNS; i++) {
            const instance: Partial<Record<BankField, string>> = {};
            for (const key of BANK_FIELDS) {
                if (r.chance(0.05)) continue;
                instance[key] = r.chance(0.5) ? EXAMPLE[key] : r.chance(0.7) ? DRAW[key](r) : mutate(r, DRAW[key](r));
            }
            const verdict = judge(instance);
            if (!verdict.accepted) continue;
            accepted++;
            assert.ok(verdict.result.ok, `${JSON.stringify(verdict.data)}: ${JSON.stringify(!verdict.result.ok && verdict.result.problems)}`);
        }
        assert.ok(accepted >= RUNS / 20, `only ${accepted} accepted`);
    });

    it("the alias' length bound follows the platform's environment and base domain, as the validator's", () => {
        const r = seeded(SEED + 1);
        for (let i = 0; i < 60; i++) {
            const environment = r.chars(LOWER, 1, 40);
            const baseDomain = Array.from({ length: r.int(1, 6) }, () => r.chars(LOWER, 1, 63)).join(".");
            const project: ProjectFile = { ...PROJECT, defaults: { ...PROJECT.defaults, environment, baseDomain } };
            const max = (bankFieldsSchema(project).properties as Record<string, { maxLength: number }>).alias.maxLength;
            for (const length of [max, max + 1].filter((n) => n >= 1)) {
                const alias = `b${"a".repeat(length - 1)}`;
                const result = validateStackConfig(validRaw(alias, { environment, baseDomain }), alias);
                const aliasRefused = !result.ok && result.problems.some((p) => p.key === "alias");
                assert.equal(aliasRefused, length > max, `environment ${environment.length} chars, baseDomain ${baseDomain.length}: alias of ${length} (schema max ${max})`);
            }
        }
    });
});

describe("npm run schema", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bank-schema-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const run = async (argv: string[]) => {
        let out = "";
        let err = "";
        const code = await main(argv, { out: (t) => { out += t; }, err: (t) => { err += t; } });
        return { code, out, err };
    };

    it(`the committed ${SCHEMA_FILE} is the generator's output (regenerate: npm run schema -- --out ${SCHEMA_FILE})`, () => {
        assert.equal(fs.readFileSync(path.join(PROJECT_ROOT, SCHEMA_FILE), "utf8"), formatSchema(schema));
    });

    it("prints the schema on stdout, or writes it whole to --out FILE (exit 0)", async () => {
        const printed = await run([]);
        assert.equal(printed.code, 0);
        assert.deepEqual(JSON.parse(printed.out), schema);
        const file = path.join(tmp, "schema.json");
        const written = await run(["--out", file]);
        assert.equal(written.code, 0);
        assert.equal(fs.readFileSync(file, "utf8"), printed.out);
        assert.match(written.err, /^wrote .*schema\.json \(\d+ bytes\)\n$/);
    });

    it("--help is exit 0; an unknown flag, an argument or an empty --out is exit 2; an unwritable --out is exit 1 and leaves nothing", async () => {
        const help = await run(["--help"]);
        assert.equal(help.code, 0);
        assert.match(help.out, /Exit codes: 0 .*; 1 .*; 2 bad usage/);
        assert.match(help.out, /Guide: docs\/jira\.md#the-schema-of-the-fields/);
        for (const argv of [["--bogus"], ["extra"], ["--out", ""]]) {
            const bad = await run(argv);
            assert.equal(bad.code, 2, argv.join(" "));
            assert.match(bad.err, /Usage: npm run schema/);
        }
        const dir = path.join(tmp, "read-only");
        fs.mkdirSync(dir);
        const missing = await run(["--out", path.join(dir, "no-such-dir", "schema.json")]);
        assert.equal(missing.code, 1);
        assert.match(missing.err, /--out .*: ENOENT: cannot write the schema there/);
        assert.deepEqual(fs.readdirSync(dir), []);
    });
});
