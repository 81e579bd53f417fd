/** Offline renders for tests, through the same runner as `npm run render`. */
import assert from "node:assert/strict";
import { OfflineRunOptions, runOffline } from "../scripts/lib/engine/offline-run";
import type { RecordedResource } from "../scripts/lib/engine/offline-run";

export type Rendered = Extract<Awaited<ReturnType<typeof runOffline>>, { ok: true }>;

/**
 * Renders and fails the test with the program's own error if the render fails. Transpile-only unless asked:
 * `npm test` type checks the whole tree first, and test/scripts/render.test.ts covers the type-checking path.
 */
export async function render(options: OfflineRunOptions): Promise<Rendered> {
    const outcome = await runOffline({ typecheck: false, ...options });
    assert.ok(outcome.ok, `render of ${options.stack} failed: ${!outcome.ok ? `${outcome.error}\n${outcome.stderr}` : ""}`);
    return outcome as Rendered;
}

export function byType(r: Rendered, type: string): RecordedResource[] {
    return r.resources.filter((x) => x.type === type);
}

export function one(r: Rendered, type: string, name: string): RecordedResource {
    const found = r.resources.find((x) => x.type === type && x.name === name);
    assert.ok(found, `no ${type} named ${name}`);
    return found;
}
