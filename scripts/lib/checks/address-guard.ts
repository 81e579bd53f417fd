/**
 * The key keeper's address, checked before any token goes to it. The checks send a valid DCM-signed token
 * to the bank's key keeper from inside DCM's network; a name that resolves to loopback, link-local,
 * unspecified, multicast or reserved addresses (or private ones, unless the platform allows them) would
 * aim that token at DCM's own services. Such a name is refused unless `--resolve` pins it explicitly
 * (test environments do), and an accepted name is pinned to the address that was checked, so the
 * connection cannot go where a second lookup points.
 */
import * as dns from "node:dns/promises";
import * as net from "node:net";
import { addressKind } from "../../../domain/rules";
import { InputError } from "./errors";
import { parseResolve } from "./http";

/** Every address a host name resolves to. */
export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface AddressGuardOptions {
    /** Private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) are allowed (platform setting allowPrivateKeyKeeper). */
    allowPrivate?: boolean;
    lookup?: Lookup;
}

/**
 * Throws InputError (field keyKeeperUrl) when the key keeper's host is, or resolves to, a refused address
 * and `resolve` does not pin it. Returns the `--resolve` pins to add: the host pinned to the address just
 * checked (none for a pinned host, an IP address, or a name that does not resolve: those checks fail by themselves).
 */
export async function guardKeyKeeperAddress(keyKeeperUrl: string, resolve: string[], options: AddressGuardOptions = {}): Promise<string[]> {
    const url = new URL(keyKeeperUrl);
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
    const port = Number(url.port || (url.protocol === "http:" ? 80 : 443));
    if (parseResolve(resolve).has(`${host}:${port}`)) return [];
    const refuse = (address: string, kind: string): never => {
        const what = address === host ? `${host} is` : `${host} resolves to ${address},`;
        throw new InputError("keyKeeperUrl", `${what} a ${kind} address: DCM's signed token is never sent there; in a test environment pin it explicitly (--resolve ${host}:${port}:<address>)`);
    };
    if (host === "localhost" || host.endsWith(".localhost")) refuse(host, "loopback");
    let addresses: string[];
    if (net.isIP(host)) addresses = [host];
    else {
        try {
            addresses = await (options.lookup ?? systemLookup)(host);
        } catch {
            return [];
        }
    }
    for (const address of addresses) {
        const kind = addressKind(address);
        if (kind && !(kind === "private" && options.allowPrivate)) refuse(address, kind);
    }
    if (net.isIP(host) || addresses.length === 0) return [];
    return [`${host}:${port}:${net.isIPv6(addresses[0]) ? `[${addresses[0]}]` : addresses[0]}`];
}
