/** Mandatory: ConfigMaps are readable by anyone with view rights and are not encrypted at rest; secret material belongs in a Secret. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isObject } from "./lib/kubernetes";
import { namedSecret, secretsInDocument } from "./lib/secret-shapes";

export const secretsConfigMaps: ResourceValidationPolicy = {
    name: "secrets-configmaps",
    description: "No ConfigMap holds secret material: private keys (PEM or JWK), tokens, credentials in URLs, values under password/secret/token keys.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "kubernetes:core/v1:ConfigMap") return;
        const data = isObject(args.props.data) ? args.props.data : {};
        for (const [key, value] of Object.entries(data)) {
            if (typeof value !== "string") continue;
            const inside = secretsInDocument(value);
            const direct = inside.length ? undefined : namedSecret(key, value);
            if (direct) reportViolation(`data["${key}"] holds ${direct}: move it to a Secret.`);
            for (const [path, why] of inside) reportViolation(`data["${key}"]${path ? ` at ${path}` : ""} holds ${why}: move it to a Secret.`);
        }
        const binary = isObject(args.props.binaryData) ? args.props.binaryData : {};
        for (const [key, value] of Object.entries(binary)) {
            if (typeof value !== "string") continue;
            for (const [, why] of secretsInDocument(Buffer.from(value, "base64").toString("utf8"))) {
                reportViolation(`binaryData["${key}"] holds ${why}: move it to a Secret.`);
            }
        }
    },
};
