/** Where the project lives: the repository root (Pulumi.yaml, stacks/, the program). One name for it, everywhere. */
import * as path from "node:path";

/** The repository root, the directory of Pulumi.yaml. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");
