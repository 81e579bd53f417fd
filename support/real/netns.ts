/**
 * A network namespace of the test's own, joined to the host by a veth pair: the "pod network" of the real
 * data-plane test. The API server refuses loopback endpoint addresses in an EndpointSlice, so the backends
 * listen on the namespace's address (10.251.<n>.2) and the proxy on the host reaches them through the veth pair
 * (10.251.<n>.1): every packet stays on this machine. Needs root (`ip netns`, `ip link`).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { run } from "./process";

/** Namespaces this helper makes are named so; the suffix is the creating process' pid. */
const PREFIX = "dcm-dp-";

export interface Netns {
    name: string;
    /** The namespace's address (the backends'). */
    address: string;
    /** The host end's address. */
    hostAddress: string;
    /** A command run inside the namespace: [command, args] for spawn. */
    wrap(command: string, args: string[]): [string, string[]];
    /** Deletes the namespace (and with it the veth pair); safe to call twice. */
    remove(): Promise<void>;
}

const alive = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

/** Whether this process may make namespaces (root, and `ip` answers). */
export async function netnsAvailable(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return "needs root (ip netns add)";
    try {
        await run("ip", ["netns", "list"], {}, 10_000);
        return undefined;
    } catch (e) {
        return `ip netns does not work here: ${(e as Error).message.split("\n")[0]}`;
    }
}

/** Removes namespaces an earlier run left behind (its process is gone). */
async function removeStale(): Promise<void> {
    const listed = await run("ip", ["netns", "list"], {}, 10_000);
    for (const line of listed.split("\n")) {
        const name = line.trim().split(/\s+/)[0];
        const pid = name?.startsWith(PREFIX) ? Number(name.slice(PREFIX.length)) : NaN;
        if (Number.isInteger(pid) && !alive(pid)) await run("ip", ["netns", "delete", name], {}, 10_000).catch(() => undefined);
    }
}

/** Creates the namespace, the veth pair and both addresses (a /30 of 10.251.0.0/16 picked by pid). */
export async function createNetns(): Promise<Netns> {
    await removeStale();
    const name = `${PREFIX}${process.pid}`;
    const n = process.pid % 250;
    const [hostAddress, address] = [`10.251.${n}.1`, `10.251.${n}.2`];
    // Interface names are at most 15 characters.
    const [hostIf, nsIf] = [`dcmh${process.pid}`.slice(0, 15), `dcmn${process.pid}`.slice(0, 15)];
    const ip = (...args: string[]) => run("ip", args, {}, 10_000);
    let removed = false;
    const remove = async () => {
        if (removed) return;
        removed = true;
        await ip("netns", "delete", name).catch(() => undefined);
        await ip("link", "delete", hostIf).catch(() => undefined);
    };
    try {
        await ip("netns", "add", name);
        await ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
        await ip("link", "set", nsIf, "netns", name);
        await ip("addr", "add", `${hostAddress}/30`, "dev", hostIf);
        await ip("link", "set", hostIf, "up");
        await ip("netns", "exec", name, "ip", "addr", "add", `${address}/30`, "dev", nsIf);
        await ip("netns", "exec", name, "ip", "link", "set", nsIf, "up");
        await ip("netns", "exec", name, "ip", "link", "set", "lo", "up");
    } catch (e) {
        await remove();
        throw e;
    }
    // Gone with the test process at the latest, when `after` did not run.
    process.once("exit", () => {
        if (!removed && fs.existsSync(`/run/netns/${name}`)) spawnSync("ip", ["netns", "delete", name]);
    });
    return { name, address, hostAddress, wrap: (command, args) => ["ip", ["netns", "exec", name, command, ...args]], remove };
}
