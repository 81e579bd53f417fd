/** Advisory: a placeholder digest passes the pinning rule but no registry serves it, so the bank's pods never start. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { placeholderDigestProblem } from "../domain/images";
import { containersOf, podSpecOf } from "./lib/kubernetes";

export const containersRealDigests: ResourceValidationPolicy = {
    name: "containers-real-digests",
    description: "No container image carries the all-zero placeholder digest: no registry serves it, so it cannot be pulled.",
    // Advisory: a new stack renders and previews before DCM's release sets the frontend's digest.
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        const spec = podSpecOf(args.type, args.props);
        if (!spec) return;
        for (const { where, container } of containersOf(spec)) {
            const problem = placeholderDigestProblem(container.image);
            if (problem) reportViolation(`${where} ${problem}.`);
        }
    },
};
