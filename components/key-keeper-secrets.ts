import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ENTITY_USERS, EntityUser } from "../domain/entity-users";

export interface KeyKeeperSecretsArgs {
    /** Namespace of the Secret. */
    namespace: pulumi.Input<string>;
    /** Labels for the Secret. */
    labels: Record<string, string>;
    /** Username of each entity user (the domain derives them from the alias: deriveNames). */
    usernames: Record<EntityUser, string>;
    /** Password length; default 48, at least 32. */
    passwordLength?: number;
}

/**
 * Credentials of the bank's two DCM entity users: generated here, stored for DCM's entities in one
 * Kubernetes Secret, and handed to the bank officer (secret outputs) to register in the key keeper.
 */
export class KeyKeeperSecrets extends pulumi.ComponentResource {
    /** Username of each entity user. */
    public readonly usernames: Record<EntityUser, string>;
    /** Password of each entity user; secrets. */
    public readonly passwords: pulumi.Output<Record<EntityUser, string>>;
    /** Name of the Secret with `<user>.username` and `<user>.password` entries. */
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: KeyKeeperSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dcm:integration:KeyKeeperSecrets", name, {}, opts);
        const length = args.passwordLength ?? 48;
        // NaN and fractions would slip past a bare `< 32` and reach the provider.
        if (!Number.isInteger(length) || length < 32) throw new pulumi.ResourceError(`KeyKeeperSecrets ${name}: passwordLength must be a whole number of at least 32, got ${length}`, this);

        const passwords = {} as Record<EntityUser, pulumi.Output<string>>;
        const stringData: Record<string, pulumi.Input<string>> = {};
        for (const user of ENTITY_USERS) {
            // A changed password means the bank must re-register it: protected against accidental replacement.
            passwords[user] = new random.RandomPassword(`${name}-${user}`, {
                length,
                special: true,
                // Symbols that survive shells, URLs and YAML unquoted.
                overrideSpecial: "-_.~",
                minLower: 2, minUpper: 2, minNumeric: 2, minSpecial: 1,
            }, { parent: this, protect: true }).result;
            stringData[`${user}.username`] = args.usernames[user];
            stringData[`${user}.password`] = passwords[user];
        }
        this.usernames = { ...args.usernames };
        this.passwords = pulumi.secret(pulumi.all(passwords) as pulumi.Output<Record<EntityUser, string>>);

        const secret = new k8s.core.v1.Secret(`${name}-users`, {
            metadata: { name: "key-keeper-users", namespace: args.namespace, labels: args.labels },
            type: "Opaque",
            stringData,
        }, { parent: this, protect: true });
        this.secretName = secret.metadata.name;

        this.registerOutputs({ usernames: this.usernames, passwords: this.passwords, secretName: this.secretName });
    }
}
