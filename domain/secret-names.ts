/**
 * Whether a field's name says its value is a credential: the one rule the audit (which masks such fields in
 * reports) and the policy pack (which refuses such values in plain sight) share, so both answer the same for
 * the same name.
 */

/** Names under which a value is a credential, matched on the snake_case form (keyKeeperPasswords -> key_keeper_passwords). */
const SECRET_NAME = /(^|[^a-z])(pass(word|wd|phrase)?|pwd|secret|token|api_?key|private_?key|client_?(secret|key)|signing_?key|credential|bearer|dsn)s?([^a-z]|$)/;
/** Names that refer to a secret rather than hold one: secretName, tokenUrl, password_min_length, secretKeyRef ... */
const REFERENCE_NAME = /(^|_)(name|ref|file|path|dir|url|uri|endpoint|length|ttl|age|count|enabled|mode|type|id|kind|policy|selector|key_ref|version|hash_?algorithm)s?$/;

/** A name in snake_case: camelCase, kebab-case, SCREAMING_CASE and dotted names alike. */
function snakeCase(name: string): string {
    return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[-. ]/g, "_").toLowerCase();
}

/**
 * True if a name (camelCase, snake_case, kebab-case, SCREAMING_CASE or dotted) says its value is a credential
 * (`adminPassword`, `apiToken`, `KRATOS_DSN`), not a reference to one (`secretName`, `tokenUrl`).
 */
export function isSecretName(name: string): boolean {
    const snake = snakeCase(name);
    return SECRET_NAME.test(snake) && !REFERENCE_NAME.test(snake);
}
