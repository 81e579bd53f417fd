/**
 * One rule for "this field's name says it holds a secret": the audit (masking a report) and the policy pack
 * (refusing a literal in a workload) answer the same for every name, in every casing, through their own paths.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSecretName } from "../../domain/secret-names";
import { platformDefaults } from "../../domain/platform-defaults";
import { PLATFORM_CONFIG_SCHEMA } from "../../policies/lib/stack";
import { secretsEnvLiterals } from "../../policies/secrets-env-literals";
import { Masker } from "../../scripts/lib/audit/masker";
import { readProject } from "../../scripts/lib/engine/stack-config";
import { PROJECT_ROOT } from "../../domain/project";

const HEADS = ["", "admin", "key keeper", "client", "db"];
const WORDS = ["password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "api key", "private key", "client secret", "client key",
    "signing key", "credential", "bearer", "dsn", "username", "user", "host", "image", "kid", "public key", "label", "secretary", "tokenizer"];
const TAILS = ["", "s", "name", "url", "file", "length", "count", "selector", "key ref", "pem"];
const CASINGS: ((words: string[]) => string)[] = [
    (w) => w.map((x, i) => (i === 0 ? x : x[0].toUpperCase() + x.slice(1))).join(""), // camelCase
    (w) => w.join("_"), // snake_case
    (w) => w.join("-"), // kebab-case
    (w) => w.join("_").toUpperCase(), // SCREAMING_CASE
    (w) => w.map((x) => x[0].toUpperCase() + x.slice(1)).join(""), // PascalCase
];

/** Names built from a head, a word and a tail, in every casing: a few thousand, secret and not. */
function names(): string[] {
    const out = new Set<string>();
    for (const head of HEADS) for (const word of WORDS) for (const tail of TAILS) {
        const parts = [head, word, tail].filter(Boolean).join(" ").split(" ");
        for (const casing of CASINGS) out.add(casing(parts));
    }
    return [...out];
}

/** The audit's answer: does it mask the value of an env pair of that name? */
function auditMasks(name: string): boolean {
    const masked = new Masker().mask("urn:pulumi:demo::p::kubernetes:apps/v1:Deployment::d", "kubernetes:apps/v1:Deployment", "spec.env", [{ name, value: "Xq7-literal-Value_42" }]) as { value: string }[];
    return masked[0].value === "[secret]";
}

/** The pack's answer: does secrets-env-literals refuse a literal env value of that name? */
function packRefuses(name: string): boolean {
    const violations: string[] = [];
    const props = { spec: { template: { spec: { containers: [{ name: "c", image: "i", env: [{ name, value: "Xq7-literal-Value_42" }] }] } } } };
    const validate = secretsEnvLiterals.validateResource as (args: unknown, report: (message: string) => void) => void;
    validate({ type: "kubernetes:apps/v1:Deployment", props, urn: "urn:pulumi:demo::p::kubernetes:apps/v1:Deployment::d", name: "d" }, (m) => violations.push(m));
    return violations.length > 0;
}

describe("isSecretName: the audit and the pack agree", () => {
    const all = names();

    it("on every one of thousands of names, in five casings", () => {
        assert.ok(all.length > 2000, `${all.length} names`);
        let secret = 0;
        for (const name of all) {
            const audit = auditMasks(name);
            assert.equal(packRefuses(name), audit, `${name}: the audit ${audit ? "masks" : "shows"} it, the pack must ${audit ? "refuse" : "accept"} it`);
            assert.equal(audit, isSecretName(name), name);
            if (audit) secret++;
        }
        // Both answers occur often, so agreement is no accident of an always-false rule.
        assert.ok(secret > all.length / 10 && secret < (all.length * 9) / 10, `${secret} of ${all.length} secret`);
    });

    it("on the names either copy once answered alone (the copies disagreed on these)", () => {
        for (const name of ["kratosDsn", "KRATOS_DSN", "signingKey", "client_key", "bearer", "SMTP_PWD", "dbPwd"]) {
            assert.ok(auditMasks(name) && packRefuses(name), name);
        }
        for (const name of ["secretName", "passwordLength", "tokenUrl", "secretKeyRef", "kid", "publicKeyPem", "SMTP_PASSWORD_FILE", "labelSelector"]) {
            assert.ok(!auditMasks(name) && !packRefuses(name), name);
        }
    });
});

describe("platform defaults have one home, Pulumi.yaml", () => {
    it("the pack's config schema defaults are Pulumi.yaml's, as the offline render reads them", () => {
        const project = readProject(PROJECT_ROOT);
        assert.equal(PLATFORM_CONFIG_SCHEMA.properties.baseDomain.default, project.defaults.baseDomain);
        assert.equal(PLATFORM_CONFIG_SCHEMA.properties.environment.default, project.defaults.environment);
        assert.deepEqual(platformDefaults(), project.defaults);
    });
});
