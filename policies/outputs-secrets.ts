/** Mandatory: a plain stack output is stored unencrypted in the state and printed by `pulumi stack output`; anything secret-looking must be a secret. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { isObject } from "./lib/kubernetes";
import { isHarmlessValue, isPrivateJwk, isSecretName, secretShape } from "./lib/secret-shapes";
import { withDefaults } from "./lib/stack";

const STACK_TYPE = "pulumi:pulumi:Stack";
/** Pulumi's wire signature of a secret value (`sdk/nodejs/runtime/rpc.ts`). */
const WIRE_SIG = "4dabf18193072939515e22adb298388d";
const WIRE_SECRET = "1b47061264138c4ac30d75fd1eb44270";

export interface OutputsSecretsConfig {
    /** The runner presents secret values as `{ "$secret": v }` (npm run policy); the Pulumi CLI cannot. */
    secretMarkers: boolean;
    /** Outputs the program makes secret: accepted as secret where secretness is not visible (the Pulumi CLI). */
    secretOutputs: string[];
}

/** A secret value as a runner can show it: the offline marker, or the wire format kept as is. */
function secretInner(v: unknown): { inner: unknown } | undefined {
    if (!isObject(v)) return undefined;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$secret") return { inner: v.$secret };
    if (v[WIRE_SIG] === WIRE_SECRET) return { inner: v.value };
    return undefined;
}

/** Paths of every plain (non-secret) value inside an output that looks secret, with the reason. */
export function plainSecretLooking(name: string, value: unknown): [string, string][] {
    const found: [string, string][] = [];
    const walk = (v: unknown, path: string, namedSecret: boolean) => {
        if (secretInner(v)) return;
        if (typeof v === "string") {
            const shape = secretShape(v);
            if (shape) found.push([path, shape]);
            else if (namedSecret && !isHarmlessValue(v)) found.push([path, "a value under a secret-sounding name"]);
        } else if (Array.isArray(v)) {
            v.forEach((x, i) => walk(x, `${path}[${i}]`, namedSecret));
        } else if (isObject(v)) {
            if (isPrivateJwk(v)) found.push([path, "a private JWK"]);
            for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, namedSecret || isSecretName(k));
        }
    };
    walk(value, name, isSecretName(name));
    return found;
}

const CONFIG_SCHEMA = {
    properties: {
        secretMarkers: { type: "boolean" as const, default: false, description: "Secret outputs are presented as { \"$secret\": v } (the offline runner sets it)." },
        secretOutputs: {
            type: "array" as const,
            items: { type: "string" as const },
            default: ["keyKeeperPasswords", "signingPrivateKeyPem"],
            description: "Outputs the program makes secret; where secretness is not visible (the Pulumi CLI) these are accepted as secret.",
        },
    },
};

export const outputsSecrets: StackValidationPolicy = {
    name: "outputs-secrets",
    description: "Every stack output whose value looks secret (private keys, tokens, passwords, values under secret-sounding names) is a Pulumi secret.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, reportViolation) => {
        const stack = args.resources.find((r) => r.type === STACK_TYPE);
        if (!stack) return args.notApplicable("no pulumi:pulumi:Stack resource");
        const config = withDefaults<OutputsSecretsConfig>(CONFIG_SCHEMA, args.getConfig());
        for (const [name, value] of Object.entries(stack.props)) {
            // The Pulumi CLI hands policies secrets unwrapped (pulumi/pulumi-policy#241): a secret output and a
            // plain one look alike, so there only the declared secret outputs are taken on trust.
            if (!config.secretMarkers && config.secretOutputs.includes(name)) continue;
            for (const [path, why] of plainSecretLooking(name, value)) {
                const hint = config.secretMarkers ? "wrap it in pulumi.secret()" : `make it a secret and list it in this policy's secretOutputs config`;
                reportViolation(`Stack output ${path} holds ${why} but is not a secret: ${hint}.`, stack.urn);
            }
        }
    },
};
