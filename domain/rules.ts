/**
 * The pure rules a stack's configuration keeps: characters, DNS names, URLs, addresses, the step-8 fields
 * (plan step 8) and the secret values. No Pulumi import: the program, the offline render, Jira onboarding, the
 * checks and the policy pack call these functions; infra/validation.ts applies them to a whole stack.
 */
import * as net from "node:net";
import { ipv6Groups } from "./cidrs";
import { SECRET_PRESENT } from "./config";
import { ISO_4217_CODES } from "./iso4217";
import { backofficeLabel } from "./names";

// The offline render's stand-in for a `secure:` value it cannot decrypt (scripts/lib/engine/stack-config.ts).
const OFFLINE_PLACEHOLDER = /^offline-placeholder-for-[A-Za-z]+$/;

/**
 * The rule a secret value breaks, or undefined. Never quotes the value. The offline render's placeholder passes.
 * @param key kratosDsn, kratosMigrationDsn or kratosSmtpUri
 */
export function secretValueProblem(key: string, value: string): string | undefined {
    if (value === SECRET_PRESENT || OFFLINE_PLACEHOLDER.test(value)) return undefined;
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "must be an absolute URL (the value is not shown: it is secret)";
    }
    if (key === "kratosDsn" || key === "kratosMigrationDsn") {
        if (!["postgres:", "postgresql:"].includes(url.protocol)) return "must be a PostgreSQL DSN (postgres://user:password@host:5432/db)";
        if (!url.hostname) return "must name the database host";
        if (url.port && url.port !== "5432") return "must use port 5432: the Kratos NetworkPolicy admits only that database port";
        // pgx's default (prefer) and disable/allow/require may talk in plaintext or to any server holding a certificate.
        const modes = url.searchParams.getAll("sslmode");
        if (modes.length !== 1 || !VERIFYING_SSLMODES.includes(modes[0])) {
            return `must verify the database server's certificate: add sslmode=verify-full (or verify-ca) once, e.g. postgres://user:password@host:5432/db?sslmode=verify-full (outside dev mode no other mode is accepted)`;
        }
        return undefined;
    }
    if (key === "kratosSmtpUri") {
        if (!["smtp:", "smtps:"].includes(url.protocol)) return "must be an smtp:// or smtps:// URI";
        if (!url.hostname) return "must name the SMTP host";
        const port = url.port || (url.protocol === "smtps:" ? "465" : "587");
        if (!SMTP_PORTS.includes(port)) return `must use port ${SMTP_PORTS.join(" or ")}: the Kratos NetworkPolicy admits only those`;
        // Kratos reads these with Go's strconv.ParseBool: anything but a false value turns the protection off.
        for (const flag of ["disable_starttls", "skip_ssl_verify"]) {
            if (url.searchParams.getAll(flag).some((v) => !GO_FALSE.includes(v))) {
                return `must not set ${flag}: mail (recovery links) would travel unencrypted or to an unverified server (outside dev mode)`;
            }
        }
        return undefined;
    }
    return undefined;
}

/** sslmode values under which pgx checks the server's certificate (verify-full also its host name). */
const VERIFYING_SSLMODES: readonly string[] = ["verify-full", "verify-ca"];
/** Values Go's strconv.ParseBool reads as false. */
const GO_FALSE: readonly string[] = ["0", "f", "F", "false", "FALSE", "False"];

/** Submission ports the Kratos courier may reach (RFC 8314 implicit TLS, RFC 6409 submission). */
export const SMTP_PORTS: readonly string[] = ["465", "587"];

/** A DNS label (RFC 1123) that starts with a letter: an alias, an environment, a namespace. */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_RULE = "must be a DNS label: lowercase letters, digits and '-', starting with a letter and not ending with '-'";
/** Longest DNS label and host name (RFC 1035). */
export const MAX_LABEL = 63;
export const MAX_HOST = 253;

/** The fields of the bank's onboarding data (plan step 8), as a Jira onboarding task carries them. */
export const BANK_FIELDS = ["alias", "displayName", "firstEmployeeEmail", "keyKeeperUrl", "assetCode"] as const;
export type BankField = (typeof BANK_FIELDS)[number];

/** The platform settings the step-8 rules depend on. */
export interface BankFieldContext {
    /** Environment suffix of the host names: it shares a DNS label with the alias. */
    environment: string;
    /** DNS zone of the hosts: it shares the 253-character host name with the alias. */
    baseDomain: string;
    /** Whether a keyKeeperUrl may name a private address. */
    allowPrivateKeyKeeper: boolean;
}

/**
 * One step-8 field's rule as data: validateStackConfig checks it and the JSON Schema
 * (scripts/lib/bank-fields-schema.ts) states it, so the two cannot disagree. Patterns are ECMA-262 in
 * unicode mode (the `u` flag, as JSON Schema validators such as Ajv match them); lengths count code
 * points, as JSON Schema does. Every field also refuses REFUSED_CHARACTER_CLASS (characterProblem).
 */
export interface BankFieldRule {
    /** The field must be given (an empty Jira field is no value); otherwise `default` applies. */
    required: boolean;
    /** The value of an absent field. */
    default?: string;
    /** Anchored pattern the value matches. With `beyondSchema`, only the schema states it. */
    pattern?: string;
    /** Fewest code points. */
    minLength?: number;
    /** Most code points. */
    maxLength?: number;
    /** The only values allowed. */
    enum?: readonly string[];
    /** The rule in words: the schema's description, and the start of the validator's message (with `beyondSchema`, the validator's messages are its own). */
    rule: string;
    /**
     * What the validator checks in code that a JSON Schema cannot state. Undefined: the schema states the
     * whole rule. Set: the schema's pattern is stricter than the validator (what it accepts, the validator
     * accepts), and this text goes into the schema's $comment.
     */
    beyondSchema?: string;
}

// Deliberately simple: one @, a non-empty local part without spaces, and a dotted domain of DNS labels.
// Letters spelt out in both cases: a JSON Schema pattern has no `i` flag (and /[a-z]/iu would match the Kelvin sign).
const EMAIL_PATTERN = "^[^\\s@<>()\",;:]+@([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,63}$";
// Not a browser's URL parser: https, a lowercase DNS host name whose last label starts with a letter (so never
// an IP address, which a URL parser would also read from forms such as 0x7f.1 or 2130706433), an optional
// port 1-65535, and a path and query of RFC 3986 characters; no credentials, no fragment.
const URL_PCHAR = "(?:[-A-Za-z0-9._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})";
const KEY_KEEPER_URL_PATTERN = "^https://(?!(?:[a-z0-9-]+\\.)*localhost(?:[:/?]|$))"
    + "(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"
    + "(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    + `(?:/${URL_PCHAR}*)?(?:\\?(?:${URL_PCHAR}|\\?)*)?$`;

const DISPLAY_NAME_MAX = 100;

/** The longest alias whose host names fit DNS: `backoffice-<alias>-<environment>` is one label, and the host at most 253 characters. */
export function aliasLimits(environment: string, baseDomain?: string): { label: number; host: number } {
    const fixed = backofficeLabel("", environment).length;
    return { label: MAX_LABEL - fixed, host: baseDomain === undefined ? Infinity : MAX_HOST - fixed - 1 - baseDomain.length };
}

/** The rules of the step-8 fields under a platform's settings (the alias' length depends on them). */
export function bankFieldRules(context: BankFieldContext): Readonly<Record<BankField, BankFieldRule>> {
    const limits = aliasLimits(context.environment, context.baseDomain);
    return {
        alias: { required: true, pattern: DNS_LABEL.source, minLength: 1, maxLength: Math.min(limits.label, limits.host), rule: DNS_LABEL_RULE },
        displayName: {
            // No markup: the name reaches DCM's frontend (BANK_DISPLAY_NAME) and HTML comments; < and > open tags there.
            required: true, pattern: "^(?!.*[<>])\\S(.*\\S)?$", minLength: 1, maxLength: DISPLAY_NAME_MAX,
            rule: `must be 1 to ${DISPLAY_NAME_MAX} printable characters without leading or trailing spaces or markup characters (< >)`,
        },
        firstEmployeeEmail: { required: true, pattern: EMAIL_PATTERN, minLength: 1, maxLength: 254, rule: "must be an email address (name@bank.example)" },
        keyKeeperUrl: {
            required: true, pattern: KEY_KEEPER_URL_PATTERN, minLength: 1, rule: "must be an https URL of the key keeper's host name, without credentials or a #fragment",
            beyondSchema: "onboarding reads the URL as a browser does (WHATWG URL) and refuses credentials, a #fragment, localhost, and "
                + "loopback, link-local, unspecified, multicast, reserved and "
                + (context.allowPrivateKeyKeeper ? "" : "private ")
                + "addresses; this schema admits only a host name (no IP address). At check time a host name resolving to a refused address is refused too.",
        },
        assetCode: { required: false, default: "UAH", enum: [...ISO_4217_CODES].sort(), rule: "must be an ISO 4217 currency code such as UAH" },
    };
}

/** Whether a value keeps a rule's data (pattern, length in code points, enum); the character rule is characterProblem's. */
export function keepsBankFieldRule(rule: BankFieldRule, value: string): boolean {
    const length = [...value].length;
    return (rule.pattern === undefined || new RegExp(rule.pattern, "u").test(value))
        && (rule.minLength === undefined || length >= rule.minLength)
        && (rule.maxLength === undefined || length <= rule.maxLength)
        && (rule.enum === undefined || rule.enum.includes(value));
}

/** A rule broken by a DNS name (RFC 1123), or undefined. */
export function dnsNameProblem(name: string): string | undefined {
    if (name.length > MAX_HOST) return `must be at most ${MAX_HOST} characters`;
    const labels = name.split(".");
    for (const label of labels) {
        if (label.length > MAX_LABEL) return `has a label longer than ${MAX_LABEL} characters ('${label.slice(0, 20)}...')`;
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(label)) {
            return `must be a DNS name of lowercase labels (letters, digits, '-'), separated by dots; '${name}' is not`;
        }
    }
    return undefined;
}

/** A rule broken by a URL, or undefined: parseable, an allowed scheme, a host, no credentials. */
export function urlProblem(value: string, schemes: readonly string[]): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return `must be an absolute URL (${schemes.map((s) => s.replace(":", "")).join(" or ")}://host/...); got '${value}'`;
    }
    const wanted = schemes.map((s) => s.replace(":", "")).join(" or ");
    if (!schemes.includes(url.protocol)) return `must use ${wanted}; got '${url.protocol.replace(":", "")}'`;
    if (url.username || url.password) return "must not contain credentials (user:password@); put secrets in secret config";
    if (!url.hostname) return "must name a host";
    if (url.hash) return "must not have a #fragment";
    return undefined;
}

// Controls (incl. U+0085 NEXT LINE), format characters (bidi overrides, zero-width), line and paragraph
// separators: YAML 1.1 parsers (the Pulumi CLI's, libyaml) break lines at U+0085, U+2028 and U+2029.
/** The characters no string setting may hold, as a pattern (unicode mode) the JSON Schema states too. */
export const REFUSED_CHARACTER_CLASS = "[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]";
const REFUSED_CHARACTER = new RegExp(REFUSED_CHARACTER_CLASS, "u");

/**
 * The rule a string breaks by holding a control, format, line or paragraph separator character, or
 * undefined. Names the character by code point and never quotes the value.
 */
export function characterProblem(value: string): string | undefined {
    const m = REFUSED_CHARACTER.exec(value);
    if (!m) return undefined;
    const c = m[0];
    const kind = /\p{Zl}/u.test(c) ? "a line separator" : /\p{Zp}/u.test(c) ? "a paragraph separator" : /\p{Cf}/u.test(c) ? "a format character" : "a control character";
    const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    return `must not contain U+${code} (${kind}) at position ${m.index + 1}: control, format, line and paragraph separator characters are refused`;
}

export type AddressKind = "unspecified" | "loopback" | "link-local" | "private" | "multicast" | "reserved";

// [first address, prefix length, kind]: the IPv4 ranges a key keeper must not be in.
const IPV4_RANGES: [string, number, AddressKind][] = [
    ["0.0.0.0", 8, "unspecified"], ["127.0.0.0", 8, "loopback"], ["169.254.0.0", 16, "link-local"],
    ["10.0.0.0", 8, "private"], ["172.16.0.0", 12, "private"], ["192.168.0.0", 16, "private"], ["100.64.0.0", 10, "private"],
    ["224.0.0.0", 4, "multicast"], ["240.0.0.0", 4, "reserved"],
];
const ipv4Number = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);

/** What kind of non-public address an IP address is (IPv4-mapped IPv6 as its IPv4), or undefined for a public one. */
export function addressKind(ip: string): AddressKind | undefined {
    const address = ip.replace(/^\[|\]$/g, "");
    if (net.isIPv4(address)) {
        const n = ipv4Number(address);
        return IPV4_RANGES.find(([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(ipv4Number(base) / 2 ** (32 - bits)))?.[2];
    }
    if (!net.isIPv6(address)) return undefined;
    const g = ipv6Groups(address);
    if (g.every((x) => x === 0)) return "unspecified";
    if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address.
    const v4tail = `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
    if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return addressKind(v4tail);
    if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return addressKind(v4tail);
    if ((g[0] & 0xffc0) === 0xfe80) return "link-local";
    if ((g[0] & 0xfe00) === 0xfc00 || (g[0] & 0xffc0) === 0xfec0) return "private";
    if ((g[0] & 0xff00) === 0xff00) return "multicast";
    return undefined;
}


/**
 * Why a key keeper host name is refused, or undefined: `localhost`, or a loopback, link-local, unspecified,
 * multicast or reserved address, or a private one unless allowed. The post-deploy checks send a valid
 * DCM-signed token to this host from inside DCM's network.
 */
export function keyKeeperHostProblem(hostname: string, allowPrivate: boolean): string | undefined {
    const host = hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
    const why = "the post-deploy checks send DCM-signed tokens to it from inside DCM's network";
    if (host === "localhost" || host.endsWith(".localhost")) return `must not name localhost: ${why}`;
    const kind = addressKind(host);
    if (!kind || (kind === "private" && allowPrivate)) return undefined;
    return `must not name a ${kind} address (${host}): ${why}${kind === "private" ? "; a key keeper on a private network needs allowPrivateKeyKeeper: true in the platform config" : ""}`;
}
