/** Mandatory: an image not pinned by digest changes under a running bank without a deploy, and cannot be audited or rolled back. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { imageProblem } from "../domain/images";
import { containersOf, podSpecOf } from "./lib/kubernetes";

/** Why an image reference is not pinned (`name:tag@sha256:<digest>`), or undefined: the rule config validation uses. */
export const unpinnedReason = imageProblem;

export const containersPinnedImages: ResourceValidationPolicy = {
    name: "containers-pinned-images",
    description: "Every container image is pinned by a version tag and its digest: name:tag@sha256:<digest>.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const spec = podSpecOf(args.type, args.props);
        if (!spec) return;
        for (const { where, container } of containersOf(spec)) {
            const reason = imageProblem(container.image);
            if (reason) reportViolation(`${where} ${reason}.`);
        }
    },
};
