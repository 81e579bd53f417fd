/**
 * Address lists of the settings that become NetworkPolicy `ipBlock`s (apiServerCidr, kratosDatabaseCidrs,
 * kratosSmtpCidrs): parsed, canonical, and no wider than the rule allows, so no egress rule can be opened to
 * the internet by a setting. No Pulumi import (validation and onboarding load it).
 */
import * as net from "node:net";

/** Most entries a list may hold (bounded input; a cluster has a handful of API server endpoints). */
export const MAX_CIDRS = 16;
/** How DevOps finds the API server's endpoint addresses; every apiServerCidr message says it. */
export const API_SERVER_HINT = "find the API server's endpoint addresses with `kubectl get endpoints kubernetes -n default` and list each as <ip>/32 (IPv6: <ip>/128)";

/** One parsed CIDR. */
export interface Cidr {
    /** Canonical text, e.g. `10.0.0.1/32`. */
    text: string;
    family: 4 | 6;
    prefix: number;
}

/** What a list accepts. */
export interface CidrListRule {
    /** Only single addresses (/32, /128). */
    singleAddresses: boolean;
    /** Smallest prefix length accepted for IPv4 (24: at most 256 addresses). */
    minPrefixV4: number;
    /** Smallest prefix length accepted for IPv6. */
    minPrefixV6: number;
    /** Appended to every message: where the right addresses come from. */
    hint: string;
}

/** The API server's endpoints: single addresses only. */
export const API_SERVER_RULE: CidrListRule = { singleAddresses: true, minPrefixV4: 24, minPrefixV6: 120, hint: API_SERVER_HINT };
/** A database or mail server: its address(es), or a small subnet (at most 256 addresses). */
export const SERVER_RULE: CidrListRule = {
    singleAddresses: false, minPrefixV4: 24, minPrefixV6: 120,
    hint: "name the server's own addresses (a /32 each, or a subnet of at most 256 addresses)",
};

function toBigInt(address: string, family: 4 | 6): bigint {
    if (family === 4) return address.split(".").reduce((acc, octet) => (acc << 8n) + BigInt(Number(octet)), 0n);
    // Expand `::` and an embedded IPv4 tail into eight 16-bit groups.
    let text = address;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4) {
        const n = toBigInt(v4[1], 4);
        text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
    const headGroups = head ? head.split(":") : [];
    const tailGroups = tail ? tail.split(":") : [];
    const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
    return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** An IPv6 address (`::` and an IPv4 tail allowed) as its eight 16-bit groups. */
export function ipv6Groups(address: string): number[] {
    const n = toBigInt(address, 6);
    return Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(16 * (7 - i))) & 0xffffn));
}

/** Parses `address/prefix`; a message naming the rule when it is not one. */
export function parseCidr(value: string): Cidr | string {
    const m = /^([0-9A-Fa-f.:]{2,45})\/(\d{1,3})$/.exec(value);
    if (!m) return `'${value}' is not a CIDR (address/prefix, e.g. 10.0.0.1/32)`;
    const family = net.isIPv4(m[1]) ? 4 : net.isIPv6(m[1]) ? 6 : 0;
    if (family === 0) return `'${value}' does not hold an IP address`;
    const prefix = Number(m[2]);
    const bits = family === 4 ? 32 : 128;
    if (prefix > bits) return `'${value}' has a prefix longer than /${bits}`;
    const hostBits = BigInt(bits - prefix);
    if ((toBigInt(m[1], family) & ((1n << hostBits) - 1n)) !== 0n) return `'${value}' has host bits set: write the network address of the /${prefix}`;
    return { text: `${m[1].toLowerCase()}/${prefix}`, family, prefix };
}

/** A list as the CLI hands structured config over (JSON text), or one comma-separated plain string. */
function listFromText(text: string): unknown[] | undefined {
    if (!text.trimStart().startsWith("[")) return text.split(",").map((s) => s.trim());
    try {
        const parsed: unknown = JSON.parse(text);
        return Array.isArray(parsed) ? parsed : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Validates a list setting: a YAML list of strings, or one string of comma-separated entries (as
 * `pulumi config set` stores a plain value). Returns the canonical entries and every problem found.
 */
export function cidrList(value: unknown, rule: CidrListRule): { cidrs: string[]; problems: string[] } {
    const entries = Array.isArray(value) ? value : typeof value === "string" ? listFromText(value) : undefined;
    if (entries === undefined) return { cidrs: [], problems: [`must be a list of CIDRs; ${rule.hint}`] };
    if (entries.length === 0 || entries.every((e) => e === "")) return { cidrs: [], problems: [`must list at least one address; ${rule.hint}`] };
    if (entries.length > MAX_CIDRS) return { cidrs: [], problems: [`must list at most ${MAX_CIDRS} entries, got ${entries.length}`] };
    const cidrs: string[] = [];
    const problems: string[] = [];
    entries.forEach((entry, i) => {
        if (typeof entry !== "string") {
            problems.push(`[${i}] must be a string such as 10.0.0.1/32`);
            return;
        }
        // Shown only after this check, so no message quotes a line break or control character.
        if (!/^[0-9A-Fa-f.:/]{1,49}$/.test(entry)) {
            problems.push(`[${i}] must be a CIDR (digits, '.', ':' and '/'); ${rule.hint}`);
            return;
        }
        const cidr = parseCidr(entry);
        if (typeof cidr === "string") {
            problems.push(`[${i}] ${cidr}; ${rule.hint}`);
            return;
        }
        const minPrefix = cidr.family === 4 ? rule.minPrefixV4 : rule.minPrefixV6;
        if (cidr.prefix < minPrefix) {
            problems.push(`[${i}] '${entry}' is wider than a /${minPrefix}${cidr.prefix === 0 ? " (it is every address)" : ""}; ${rule.hint}`);
        } else if (rule.singleAddresses && cidr.prefix !== (cidr.family === 4 ? 32 : 128)) {
            problems.push(`[${i}] '${entry}' must be a single address (/32 or /128); ${rule.hint}`);
        } else if (cidrs.includes(cidr.text)) {
            problems.push(`[${i}] '${entry}' is listed twice`);
        } else {
            cidrs.push(cidr.text);
        }
    });
    return { cidrs, problems };
}
