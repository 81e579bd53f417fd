/**
 * The program's own knowledge of which fields are secret, by type token: the providers' secret outputs
 * (what `additionalSecretOutputs` and the schema declare) and the outputs our components and stack mark secret.
 * test/scripts/audit/secret-fields.test.ts checks it against every secret marker of real offline renders
 * (each TLS mode, EC and RSA signing keys).
 */
export const SECRET_FIELDS: Readonly<Record<string, readonly string[]>> = {
    "tls:index/privateKey:PrivateKey": ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"],
    "tls:index/selfSignedCert:SelfSignedCert": ["privateKeyPem"],
    "tls:index/certRequest:CertRequest": ["privateKeyPem"],
    "tls:index/locallySignedCert:LocallySignedCert": ["caPrivateKeyPem"],
    "random:index/randomPassword:RandomPassword": ["result", "bcryptHash"],
    "kubernetes:core/v1:Secret": ["data", "stringData"],
    "dcm:integration:JwtSigningKey": ["privateKeyPem"],
    "dcm:integration:KeyKeeperSecrets": ["passwords"],
    "pulumi:pulumi:Stack": ["keyKeeperPasswords", "signingPrivateKeyPem"],
};

/** Secret fields of a type by its own knowledge (fields of any component or provider type not listed: none). */
export function knownSecretFields(type: string): readonly string[] {
    // Own entries only: a type named "constructor" or "toString" must not find Object.prototype's members.
    return Object.hasOwn(SECRET_FIELDS, type) ? SECRET_FIELDS[type] : [];
}

/**
 * `type.field` of every secret marker in rendered resources that the table above does not list: the program
 * marks a secret the audit would not know of in a preview. Render-diff reports them so the table is kept current.
 */
export function unlistedSecretFields(resources: readonly { type: string; outputs: Record<string, unknown> }[]): string[] {
    const out = new Set<string>();
    for (const r of resources) {
        for (const [field, value] of Object.entries(r.outputs)) {
            if (containsMarker(value) && !knownSecretFields(r.type).includes(field)) out.add(`${r.type}.${field}`);
        }
    }
    return [...out].sort();
}

function containsMarker(v: unknown): boolean {
    if (typeof v !== "object" || v === null) return false;
    if (!Array.isArray(v) && Object.keys(v).length === 1 && "$secret" in v) return true;
    return Object.values(v).some(containsMarker);
}
