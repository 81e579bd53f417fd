/** Mandatory: annotations are copied into events, audit logs and `kubectl describe`; a secret there is a secret published. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { annotationsOf, podMetadataOf } from "./lib/kubernetes";
import { namedSecret, secretsInDocument } from "./lib/secret-shapes";

export const secretsAnnotations: ResourceValidationPolicy = {
    name: "secrets-annotations",
    description: "No annotation (on any Kubernetes object or pod template) holds secret material.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!args.type.startsWith("kubernetes:")) return;
        const places: [string, Record<string, unknown>][] = [
            ["metadata.annotations", annotationsOf(args.props.metadata)],
            ["pod template annotations", annotationsOf(podMetadataOf(args.type, args.props))],
        ];
        for (const [where, annotations] of places) {
            for (const [key, value] of Object.entries(annotations)) {
                if (typeof value !== "string") continue;
                // The annotation key is a domain-qualified name: judge its last segment.
                const direct = namedSecret(key.split("/").pop() ?? key, value);
                const found = direct ? [["", direct]] : secretsInDocument(value);
                for (const [path, why] of found) reportViolation(`${where}["${key}"]${path ? ` at ${path}` : ""} holds ${why}.`);
            }
        }
    },
};
