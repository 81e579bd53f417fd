/**
 * @peculiar/x509 loaded on first use: it needs the Reflect metadata polyfill (tsyringe) before it loads and
 * Node's WebCrypto as its provider. Loaded lazily so what makes no certificate does not pay for it.
 */
import * as crypto from "node:crypto";

let x509Module: typeof import("@peculiar/x509") | undefined;

export function x509(): typeof import("@peculiar/x509") {
    if (!x509Module) {
        require("reflect-metadata");
        x509Module = require("@peculiar/x509") as typeof import("@peculiar/x509");
        x509Module.cryptoProvider.set(crypto.webcrypto as never);
    }
    return x509Module;
}
