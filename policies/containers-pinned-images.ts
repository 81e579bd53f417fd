/** Mandatory: an unpinned image changes under a running bank without a deploy, and cannot be audited or rolled back. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf } from "./lib/kubernetes";

/** Why an image reference is not pinned, or undefined if it has a digest or a tag other than latest. */
export function unpinnedReason(image: unknown): string | undefined {
    if (typeof image !== "string" || !image.trim()) return "has no image";
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
    if (image.includes("@")) return `image "${image}" has a malformed digest`;
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastSegment.indexOf(":");
    if (colon < 0) return `image "${image}" has no tag (implicitly latest)`;
    const tag = lastSegment.slice(colon + 1);
    if (!tag || tag.toLowerCase() === "latest") return `image "${image}" uses the tag "latest"`;
    return undefined;
}

export const containersPinnedImages: ResourceValidationPolicy = {
    name: "containers-pinned-images",
    description: "Every container image is pinned: a tag other than latest, or a sha256 digest.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const spec = podSpecOf(args.type, args.props);
        if (!spec) return;
        for (const { where, container } of containersOf(spec)) {
            const reason = unpinnedReason(container.image);
            if (reason) reportViolation(`${where} ${reason}: pin a version tag or a digest.`);
        }
    },
};
