/**
 * Every name a bank's environment derives from its alias: namespace, host names, the signer Secret in DCM's
 * shared namespace, the entity users' usernames and the labels. One function (deriveNames) so the program, the
 * validation's length rules, the checks and the policy pack cannot disagree on a name.
 */
import type { BankConfig, PlatformConfig, StackSettings } from "./config";
import { ENTITY_USERS, EntityUser } from "./entity-users";

/** The names of one bank's environment. */
export interface BankNames {
    /** Kubernetes namespace of the bank: `bank-<alias>-<environment>`. */
    namespace: string;
    /** Host names: `backoffice-<alias>-<env>.<domain>` and `api-<alias>-<env>.<domain>`. */
    hosts: { backoffice: string; api: string };
    /** The signing key Secret in the signer's namespace, unique per bank there: `jwt-signing-key-<alias>-<environment>`. */
    signerSecretName: string;
    /** Username of each entity user: `dcm-<alias>-<user>`. */
    usernames: Record<EntityUser, string>;
    /** Labels every object of the bank carries. */
    labels: Record<string, string>;
}

/** The first DNS label of the backoffice host, the longest label a bank's names hold (the alias' length rule). */
export function backofficeLabel(alias: string, environment: string): string {
    return `backoffice-${alias}-${environment}`;
}

/** Every name of a bank's environment, from its alias (and asset code, a label) and the platform's environment and zone. */
export function deriveNames(bank: Pick<BankConfig, "alias" | "assetCode">, platform: Pick<PlatformConfig, "environment" | "baseDomain">): BankNames {
    const suffix = `${bank.alias}-${platform.environment}`;
    const usernames = Object.fromEntries(ENTITY_USERS.map((user) => [user, `dcm-${bank.alias}-${user}`])) as Record<EntityUser, string>;
    return {
        namespace: `bank-${suffix}`,
        hosts: {
            backoffice: `${backofficeLabel(bank.alias, platform.environment)}.${platform.baseDomain}`,
            api: `api-${suffix}.${platform.baseDomain}`,
        },
        signerSecretName: `jwt-signing-key-${suffix}`,
        usernames,
        labels: {
            "app.kubernetes.io/part-of": "dcm-integration",
            "app.kubernetes.io/instance": suffix,
            "app.kubernetes.io/managed-by": "pulumi",
            "dcm/alias": bank.alias,
            "dcm/asset-code": bank.assetCode,
            "dcm/environment": platform.environment,
        },
    };
}

/** A validated bank and platform with every name derived from them. */
export function deriveSettings(bank: BankConfig, platform: PlatformConfig): StackSettings {
    return { bank, platform, ...deriveNames(bank, platform) };
}

/** Labels every object of a bank carries: the Kubernetes recommended labels plus DCM's own. */
export function bankLabels(settings: Pick<StackSettings, "bank" | "platform">): Record<string, string> {
    return deriveNames(settings.bank, settings.platform).labels;
}

/** Base labels plus the recommended name and component labels of one part of the environment. */
export function componentLabels(base: Record<string, string>, name: string, component: string): Record<string, string> {
    return { ...base, "app.kubernetes.io/name": name, "app.kubernetes.io/component": component };
}

/**
 * The label that admits a pod to the Kratos admin API (NetworkPolicy `kratos-admin-from-bootstrap`). Only the
 * first-employee Job's pod template carries it (the policy pack's `network-kratos-admin-client` checks that no
 * other workload does), so no pod gets there by sharing a common label such as `app.kubernetes.io/name`.
 */
export const KRATOS_ADMIN_CLIENT_LABEL = { key: "dcm/kratos-admin-client", value: "first-employee-bootstrap" } as const;
