/** Valid configuration values to start a test case from: the project defaults plus a bank. */
import { readProject } from "../scripts/lib/engine/stack-config";
import { PROJECT_ROOT } from "../domain/project";

export const PROJECT = readProject(PROJECT_ROOT);

/** A valid raw config (keys without namespace) for `alias`, as the CLI would assemble it. */
export function validRaw(alias = "demo", overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        ...PROJECT.defaults,
        alias,
        displayName: "Demo Bank",
        firstEmployeeEmail: "officer@demo-bank.example",
        keyKeeperUrl: "https://keykeeper.demo-bank.example/api",
        // As the demo stack: Kratos needs no secret in dev mode.
        kratosDevMode: "true",
        // A platform setting with no default (the cluster's own API server endpoints), as the stack files set it.
        apiServerCidr: ["10.96.0.1/32"],
        ...overrides,
    };
}
