// Lint: typescript-eslint's recommended rules with type information, plus Pulumi's rules against an
// Output inside a template string (use pulumi.interpolate).
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

/**
 * The import arrows (docs/architecture.md): per layer, the project folders it must not import. An import
 * climbing into one of them (`../infra/...`, `../../scripts/...`) is an error, so an arrow cannot go back up
 * unnoticed. test/architecture.test.ts plants a bad import in each layer and sees this rule refuse it.
 */
const LAYER_FORBIDS = {
    domain: null, // imports nothing of the project
    components: ["infra", "scripts", "policies", "real", "support", "test", "bench", "reference"],
    infra: ["scripts", "policies", "real", "support", "test", "bench", "reference"],
    policies: ["infra", "components", "scripts", "real", "support", "test", "bench", "reference"],
    scripts: ["real", "support", "test", "bench"],
    real: ["infra", "components", "policies", "support", "test", "bench", "reference"],
    reference: ["domain", "infra", "components", "policies", "scripts", "real", "support", "test", "bench"],
    support: ["test", "bench"],
    bench: ["test"],
};

export const importArrows = Object.entries(LAYER_FORBIDS).map(([layer, forbidden]) => ({
    files: [`${layer}/**/*.ts`, `${layer}/**/*.js`],
    rules: {
        "no-restricted-imports": ["error", {
            patterns: [forbidden === null
                ? { regex: "^\\.\\./", message: `${layer}/ is the bottom layer: it imports nothing of the project (docs/architecture.md).` }
                : { regex: `^(\\.\\./)+(${forbidden.join("|")})(/|$)`, message: `${layer}/ must not import ${forbidden.join(", ")} (docs/architecture.md).` }],
        }],
    },
}));

export default tseslint.config(
    { ignores: ["node_modules/**", "out/**", "**/*.js", "!scripts/lib/engine/offline-worker.js", "!components/first-employee-bootstrap.js"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
    ...importArrows,
    {
        // node:test's describe() and it() return promises the runner itself awaits.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-floating-promises": "off" },
    },
    {
        // CommonJS run by Node.js as it is: the offline worker, and the first-employee bootstrap (in the Job's pod).
        files: ["scripts/lib/engine/offline-worker.js", "components/first-employee-bootstrap.js"],
        languageOptions: { sourceType: "commonjs", globals: { require: "readonly", process: "readonly", __dirname: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", setTimeout: "readonly" } },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
