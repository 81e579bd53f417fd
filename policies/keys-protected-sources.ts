/** Mandatory: whatever key or password feeds the Secrets jwt-signing-key and key-keeper-users is as precious as they are, wherever the program creates it. */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { nameOf } from "./lib/kubernetes";
import { isProtectedSecretName } from "./keys-protected";

const SOURCE_TYPES = ["tls:index/privateKey:PrivateKey", "random:index/randomPassword:RandomPassword"];

/** Every resource a resource's inputs came from, following dependencies through components. */
function sourcesOf(resource: PolicyResource): PolicyResource[] {
    const seen = new Set<string>();
    const out: PolicyResource[] = [];
    const visit = (r: PolicyResource) => {
        const deps = [...r.dependencies, ...Object.values(r.propertyDependencies).flat()];
        for (const d of deps) {
            if (seen.has(d.urn)) continue;
            seen.add(d.urn);
            out.push(d);
            visit(d);
        }
    };
    visit(resource);
    return out;
}

export const keysProtectedSources: StackValidationPolicy = {
    name: "keys-protected-sources",
    description: "Every tls.PrivateKey and random.RandomPassword that the Secrets jwt-signing-key and key-keeper-users are built from is protected.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const secrets = args.resources.filter((r) => r.type === "kubernetes:core/v1:Secret" && isProtectedSecretName(nameOf(r.props)));
        for (const secret of secrets) {
            for (const source of sourcesOf(secret)) {
                if (SOURCE_TYPES.includes(source.type) && !source.opts.protect) {
                    reportViolation(`${source.name} feeds the Secret ${nameOf(secret.props)} but is not protected: set { protect: true }.`, source.urn);
                }
            }
        }
    },
};
