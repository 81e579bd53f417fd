/** Mandatory: replacing the signing key breaks every bank's JWT validation and replacing a key-keeper password locks DCM out of the key keeper; only a deliberate rotation may do it. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { nameOf } from "./lib/kubernetes";

/** Kubernetes Secrets whose loss means re-keying or re-registering with the bank. */
export const PROTECTED_SECRETS = ["jwt-signing-key", "key-keeper-users"];

/** True for those Secrets; the signer Secret is named per bank (`jwt-signing-key-<alias>-<environment>`). */
export function isProtectedSecretName(name: string): boolean {
    return PROTECTED_SECRETS.includes(name) || name.startsWith("jwt-signing-key-");
}

/** The component types whose keys and passwords are the signing key and the key-keeper secrets. */
const SIGNING_KEY_COMPONENT = "dcm:integration:JwtSigningKey";
const KEY_KEEPER_COMPONENT = "dcm:integration:KeyKeeperSecrets";

/** Parent types in a URN's qualified type: `urn:pulumi:s::p::A$B$own:type::name` gives [A, B]. */
export function parentTypesOfUrn(urn: string): string[] {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.split("$").slice(0, -1);
}

/** What a resource holds that must be protected, or undefined. */
export function protectedRole(type: string, urn: string, props: Record<string, unknown>): string | undefined {
    const parents = parentTypesOfUrn(urn);
    if (type === "tls:index/privateKey:PrivateKey" && parents.includes(SIGNING_KEY_COMPONENT)) return "a JWT signing key";
    if (type === "random:index/randomPassword:RandomPassword" && parents.includes(KEY_KEEPER_COMPONENT)) return "a key-keeper password";
    if (type === "kubernetes:core/v1:Secret" && isProtectedSecretName(nameOf(props))) return `the Secret ${nameOf(props)}`;
    return undefined;
}

export const keysProtected: ResourceValidationPolicy = {
    name: "keys-protected",
    description: "The JWT signing keys, the key-keeper passwords and the Secrets jwt-signing-key and key-keeper-users are protected against deletion and replacement.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const role = protectedRole(args.type, args.urn, args.props);
        if (role && !args.opts.protect) reportViolation(`${args.name} holds ${role} but is not protected: set { protect: true }.`);
    },
};
