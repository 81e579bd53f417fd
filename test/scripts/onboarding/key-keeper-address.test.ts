/**
 * At check time, the key keeper's name is resolved before DCM's signed token goes to it: names that
 * resolve into DCM's own network are refused unless --resolve pins them, and accepted names are pinned to
 * the address that was checked.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { guardKeyKeeperAddress, Lookup } from "../../../scripts/lib/checks/address-guard";
import { InputError } from "../../../scripts/lib/checks/errors";
import { runChecks } from "../../../scripts/lib/checks";
import { stackMaterial } from "../../../support/checks/stack";

const resolvingTo = (...addresses: string[]): Lookup => async () => addresses;

describe("the key keeper's address at check time", () => {
    it("refuses a name resolving to loopback, link-local, unspecified or (by default) private addresses", async () => {
        const cases: [string[], RegExp][] = [
            [["127.0.0.1"], /resolves to 127\.0\.0\.1, a loopback address/],
            [["203.0.113.7", "169.254.169.254"], /resolves to 169\.254\.169\.254, a link-local address/],
            [["::"], /unspecified/],
            [["::ffff:127.0.0.1"], /loopback/],
            [["10.0.0.5"], /resolves to 10\.0\.0\.5, a private address/],
        ];
        for (const [addresses, message] of cases) {
            await assert.rejects(guardKeyKeeperAddress("https://keys.bank.example/api", [], { lookup: resolvingTo(...addresses) }), (e: unknown) => {
                assert.ok(e instanceof InputError);
                assert.match(e.message, /^keyKeeperUrl: keys\.bank\.example /);
                assert.match(e.message, message);
                assert.match(e.message, /--resolve keys\.bank\.example:443:<address>/);
                return true;
            }, addresses.join());
        }
        await assert.rejects(guardKeyKeeperAddress("https://localhost:8443/", [], { lookup: resolvingTo("203.0.113.7") }), /localhost is a loopback address/);
        await assert.rejects(guardKeyKeeperAddress("https://[::1]/", []), /::1 is a loopback address/);
    });

    it("lets an explicit --resolve pin through (test environments), and private addresses when the platform allows them", async () => {
        const never: Lookup = async () => { throw new Error("no lookup for a pinned name"); };
        assert.deepEqual(await guardKeyKeeperAddress("https://keys.bank.example/api", ["keys.bank.example:443:127.0.0.1:40123"], { lookup: never }), []);
        assert.deepEqual(await guardKeyKeeperAddress("https://keys.bank.example/api", [], { lookup: resolvingTo("10.0.0.5"), allowPrivate: true }), ["keys.bank.example:443:10.0.0.5"]);
        await assert.rejects(guardKeyKeeperAddress("https://keys.bank.example/api", [], { lookup: resolvingTo("127.0.0.1"), allowPrivate: true }), /loopback/);
    });

    it("pins an accepted name to the address it checked, so a second lookup cannot redirect the token", async () => {
        assert.deepEqual(await guardKeyKeeperAddress("https://keys.bank.example:8443/api", [], { lookup: resolvingTo("203.0.113.7") }), ["keys.bank.example:8443:203.0.113.7"]);
        assert.deepEqual(await guardKeyKeeperAddress("https://keys.bank.example/api", [], { lookup: resolvingTo("2001:db8::7") }), ["keys.bank.example:443:[2001:db8::7]"]);
        assert.deepEqual(await guardKeyKeeperAddress("https://keys.bank.example/api", [], { lookup: async () => { throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }); } }), [],
            "a name that does not resolve is left to the checks, which report it");
    });

    it("is applied by runChecks before any request: a loopback key keeper is bad input", async () => {
        const { outputs } = await stackMaterial();
        let requests = 0;
        await assert.rejects(runChecks({ stack: "demo", outputs: { ...outputs, keyKeeperUrl: "https://127.0.0.1:9/api" }, onProgress: () => { requests++; } }),
            /keyKeeperUrl: 127\.0\.0\.1 is a loopback address/);
        assert.equal(requests, 0, "no check started");
    });
});
