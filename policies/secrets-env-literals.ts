/** Mandatory: a literal env value lives in the workload spec, readable with view rights and kept in every ReplicaSet; use valueFrom.secretKeyRef. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isObject, podSpecOf } from "./lib/kubernetes";
import { namedSecret } from "./lib/secret-shapes";

export const secretsEnvLiterals: ResourceValidationPolicy = {
    name: "secrets-env-literals",
    description: "No container env variable has a literal value that is secret material or sits under a password/secret/token name.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const spec = podSpecOf(args.type, args.props);
        if (!spec) return;
        for (const { where, container } of containersOf(spec)) {
            for (const env of Array.isArray(container.env) ? container.env : []) {
                if (!isObject(env) || typeof env.value !== "string") continue;
                const why = namedSecret(String(env.name), env.value);
                if (why) reportViolation(`${where} env ${String(env.name)} holds ${why}: use valueFrom.secretKeyRef.`);
            }
        }
    },
};
