/**
 * The secrets the bank officer registered (plan step 7): the two DCM entity users, from a JSON file or the
 * KEY_KEEPER_USERS environment variable. Either `{"users": [{"username", "secret"}, ...]}` or the stack's
 * outputs `{"keyKeeperUsernames": {...}, "keyKeeperPasswords": {...}}`.
 */
import * as fs from "node:fs";

export interface KeyKeeperUser {
    username: string;
    secret: string;
}

export function parseUsers(text: string, source: string): KeyKeeperUser[] {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch {
        throw new Error(`${source}: not JSON`);
    }
    const o = (doc ?? {}) as Record<string, unknown>;
    let users: unknown[];
    if (Array.isArray(o.users)) {
        users = o.users;
    } else if (o.keyKeeperUsernames && o.keyKeeperPasswords) {
        const names = o.keyKeeperUsernames as Record<string, unknown>;
        const secrets = o.keyKeeperPasswords as Record<string, unknown>;
        users = Object.keys(names).map((entity) => ({ username: names[entity], secret: secrets[entity] }));
    } else {
        throw new Error(`${source}: expected {"users": [{"username", "secret"}]} or keyKeeperUsernames with keyKeeperPasswords`);
    }
    if (users.length === 0) throw new Error(`${source}: no users`);
    return users.map((u, i) => {
        const { username, secret } = (u ?? {}) as Record<string, unknown>;
        if (typeof username !== "string" || !username) throw new Error(`${source}: users[${i}].username must be a non-empty string`);
        if (typeof secret !== "string" || !secret) throw new Error(`${source}: users[${i}].secret must be a non-empty string`);
        return { username, secret };
    });
}

/** From the file if given, else KEY_KEEPER_USERS. */
export function loadUsers(file: string | undefined, env: NodeJS.ProcessEnv = process.env): KeyKeeperUser[] {
    if (file) return parseUsers(fs.readFileSync(file, "utf8"), file);
    if (env.KEY_KEEPER_USERS) return parseUsers(env.KEY_KEEPER_USERS, "KEY_KEEPER_USERS");
    throw new Error("no users: give --users FILE or set KEY_KEEPER_USERS");
}
