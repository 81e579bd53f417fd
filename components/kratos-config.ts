/**
 * Pure generation of Ory Kratos' configuration for one bank (no Pulumi import): `kratos.yml`, the employee
 * identity schema, and the environment variables that carry the secrets, as Ory's Helm chart passes them.
 */
import * as YAML from "yaml";

/** Path of the backoffice host under which Kratos' public API is served (host-only cookies, no cross-bank leak). */
export const KRATOS_PUBLIC_PATH = "/.ory";
/** Kratos' ports (the chart's http-public and http-admin). */
export const KRATOS_PUBLIC_PORT = 4433;
export const KRATOS_ADMIN_PORT = 4434;
/** Port of the courier's metrics and health endpoint. */
export const COURIER_METRICS_PORT = 4435;
/** Where the ConfigMap is mounted in the Kratos containers. */
export const KRATOS_CONFIG_DIR = "/etc/config/kratos";
export const KRATOS_CONFIG_FILE = `${KRATOS_CONFIG_DIR}/kratos.yml`;
export const IDENTITY_SCHEMA_FILE = "identity.employee.schema.json";
/**
 * The assurance level of a session the frontend accepts for DCM's data: a second factor, always. Kratos' whoami
 * cannot require it of an employee who has enrolled none (only `highest_available`), so the frontend checks it.
 */
export const EMPLOYEE_SESSION_AAL = "aal2";

/**
 * The frontend's rule for Kratos' `/sessions/whoami` answer (DCM's frontend image implements it; the real
 * tests hold Kratos to it): an active session of an employee, at EMPLOYEE_SESSION_AAL. Anything else sends the
 * employee to login (403 `session_aal2_required`) or to settings to enrol a second factor (200 at aal1).
 */
export function backofficeSessionAccepted(status: number, whoami: unknown): boolean {
    const session = whoami as { active?: unknown; authenticator_assurance_level?: unknown; identity?: { schema_id?: unknown } } | undefined;
    return status === 200 && session?.active === true && session.authenticator_assurance_level === EMPLOYEE_SESSION_AAL &&
        session.identity?.schema_id === EMPLOYEE_SCHEMA_ID;
}
/** The one identity schema: backoffice employees. */
export const EMPLOYEE_SCHEMA_ID = "employee";
/** Dev mode's database: SQLite on the pod's emptyDir (lost on restart; demo banks only). */
export const DEV_MODE_DSN = "sqlite:///var/lib/sqlite/kratos.db?_fk=true&mode=rwc";
/** Dev mode's mail server: none is reachable; recovery links come from the first-employee Secret instead. */
export const DEV_MODE_SMTP_URI = "smtp://127.0.0.1:1025/?disable_starttls=true";

/** Environment variables Kratos reads secrets from (Ory's chart: the Secret's keys mapped to these names). */
export const KRATOS_SECRET_ENV = {
    dsn: "DSN",
    secretsDefault: "SECRETS_DEFAULT",
    secretsCookie: "SECRETS_COOKIE",
    secretsCipher: "SECRETS_CIPHER",
    // Unset, Kratos (v25+) encrypts list page tokens with an all-zero key: anyone can forge one (GO-2026-4801).
    secretsPagination: "SECRETS_PAGINATION",
    smtpConnectionUri: "COURIER_SMTP_CONNECTION_URI",
} as const;
export type KratosSecretKey = keyof typeof KRATOS_SECRET_ENV;

export interface KratosConfigOptions {
    /** The bank's backoffice host, `backoffice-<alias>-<env>.<domain>`. */
    backofficeHost: string;
    /** In-cluster base URL of the admin API (never public). */
    adminBaseUrl: string;
    /** Sender address of recovery emails. */
    fromAddress: string;
    /** Sender name of recovery emails; also the name the authenticator app and the passkey prompt show. */
    fromName: string;
    /** The Kratos release the config is written for (the image's tag, e.g. `v26.2.0`): `version` in kratos.yml. */
    version: string;
}

/** `https://<backoffice host>/.ory`: Kratos' public base URL. */
export function kratosPublicUrl(backofficeHost: string): string {
    return `https://${backofficeHost}${KRATOS_PUBLIC_PATH}`;
}

/** The employee identity schema: email is the password identifier and the recovery address. */
export function employeeIdentitySchema(): Record<string, unknown> {
    return {
        $id: "https://schemas.dcm.example.com/kratos/employee.schema.json",
        $schema: "http://json-schema.org/draft-07/schema#",
        title: "Backoffice employee",
        type: "object",
        properties: {
            traits: {
                type: "object",
                properties: {
                    email: {
                        type: "string",
                        format: "email",
                        title: "Email",
                        minLength: 3,
                        maxLength: 254,
                        "ory.sh/kratos": {
                            credentials: { password: { identifier: true } },
                            recovery: { via: "email" },
                            verification: { via: "email" },
                        },
                    },
                    name: { type: "string", title: "Full name", maxLength: 200 },
                },
                required: ["email"],
                additionalProperties: false,
            },
        },
    };
}

/** The contents of `kratos.yml`. Secrets are not in it: they come from the environment (KRATOS_SECRET_ENV). */
export function kratosConfig(options: KratosConfigOptions): Record<string, unknown> {
    const ui = (page: string) => `https://${options.backofficeHost}/${page}`;
    const home = `https://${options.backofficeHost}/`;
    return {
        version: options.version,
        serve: {
            public: {
                base_url: kratosPublicUrl(options.backofficeHost),
                host: "0.0.0.0",
                port: KRATOS_PUBLIC_PORT,
                // Same origin as the frontend: no cross-origin caller to admit.
                cors: { enabled: false },
            },
            admin: { base_url: options.adminBaseUrl, host: "0.0.0.0", port: KRATOS_ADMIN_PORT },
        },
        selfservice: {
            default_browser_return_url: home,
            allowed_return_urls: [home],
            methods: {
                password: { enabled: true, config: { haveibeenpwned_enabled: false, min_password_length: 12, identifier_similarity_check_enabled: true } },
                code: { enabled: true },
                link: { enabled: false },
                profile: { enabled: true },
                // Second factors (a bank's security team asks for MFA on the backoffice): an authenticator app,
                // and a security key or passkey. WebAuthn stays a second factor (not passwordless), so a
                // password plus one of these is AAL2. The relying party is the backoffice host only.
                totp: { enabled: true, config: { issuer: options.fromName } },
                webauthn: {
                    enabled: true,
                    config: {
                        passwordless: false,
                        rp: { display_name: options.fromName, id: options.backofficeHost, origins: [`https://${options.backofficeHost}`] },
                    },
                },
            },
            flows: {
                error: { ui_url: ui("error") },
                login: { ui_url: ui("login"), lifespan: "10m" },
                logout: { after: { default_browser_return_url: ui("login") } },
                // Employees are created by administrators only.
                registration: { enabled: false, ui_url: ui("registration") },
                recovery: { enabled: true, use: "code", ui_url: ui("recovery"), lifespan: "1h" },
                verification: { enabled: false, use: "code", ui_url: ui("verification") },
                // Changing the password or a factor needs the highest factor the employee has enrolled; an employee
                // with none yet opens settings on the password (or the recovery code) alone, to enrol one.
                settings: { ui_url: ui("settings"), privileged_session_max_age: "15m", required_aal: "highest_available" },
            },
        },
        session: {
            lifespan: "8h",
            // Once an employee has enrolled TOTP or a passkey, whoami answers 403 to a password-only session.
            // Kratos knows no stricter setting (its schema allows only aal1 and highest_available), so for an
            // employee with no factor yet whoami answers 200 at aal1: the frontend accepts a session only at
            // EMPLOYEE_SESSION_AAL (backofficeSessionAccepted), and settings (above) lets that session enrol one,
            // which raises it to aal2.
            whoami: { required_aal: "highest_available" },
            // No `domain`: the cookie stays host-only on this bank's backoffice host.
            cookie: { persistent: false, same_site: "Lax" },
        },
        cookies: { same_site: "Lax", path: "/" },
        identity: {
            default_schema_id: EMPLOYEE_SCHEMA_ID,
            schemas: [{ id: EMPLOYEE_SCHEMA_ID, url: `file://${KRATOS_CONFIG_DIR}/${IDENTITY_SCHEMA_FILE}` }],
        },
        courier: {
            delivery_strategy: "smtp",
            smtp: { from_address: options.fromAddress, from_name: options.fromName },
        },
        ciphers: { algorithm: "xchacha20-poly1305" },
        hashers: { algorithm: "bcrypt", bcrypt: { cost: 12 } },
        log: { level: "info", format: "json", leak_sensitive_values: false },
    };
}

/** `kratos.yml` as text. */
export function kratosYaml(options: KratosConfigOptions): string {
    return YAML.stringify(kratosConfig(options), { lineWidth: 0 });
}

/**
 * The configuration Kratos validates at start: the file overlaid by its environment variables. Kratos maps
 * `A_B` to `a.b` and splits list values at commas (Ory's configx), which is why the secrets have no comma.
 */
export function effectiveConfig(file: Record<string, unknown>, env: Partial<Record<KratosSecretKey, string>>): Record<string, unknown> {
    const merged = structuredClone(file) as Record<string, any>;
    if (env.dsn !== undefined) merged.dsn = env.dsn;
    const secrets = { ...(merged.secrets ?? {}) };
    if (env.secretsDefault !== undefined) secrets.default = env.secretsDefault.split(",");
    if (env.secretsCookie !== undefined) secrets.cookie = env.secretsCookie.split(",");
    if (env.secretsCipher !== undefined) secrets.cipher = env.secretsCipher.split(",");
    if (env.secretsPagination !== undefined) secrets.pagination = env.secretsPagination.split(",");
    if (Object.keys(secrets).length > 0) merged.secrets = secrets;
    if (env.smtpConnectionUri !== undefined) {
        merged.courier = { ...merged.courier, smtp: { ...merged.courier?.smtp, connection_uri: env.smtpConnectionUri } };
    }
    return merged;
}
