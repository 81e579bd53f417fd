/**
 * The one rule for container images, used by config validation (infra/validation.ts) and by the policy pack
 * (policies/containers-pinned-images.ts): an image is pinned by a version tag AND the digest of that tag's
 * content, `name:tag@sha256:<64 hex>`. The digest is what the node pulls (a tag can be moved to other
 * content by whoever can push to the registry); the tag says which version it is, for people and the audit.
 * No Pulumi import: validation, the offline render and the policy pack all load this file.
 */

/** The form every image must have, for messages. */
export const PINNED_IMAGE_FORM = "name:tag@sha256:<64 hex digest>";
/** How to read a tag's digest, for messages (either tool, from any machine that can reach the registry). */
const DIGEST_ADVICE = "read it with `crane digest <name:tag>` or `docker buildx imagetools inspect <name:tag>`";
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** An image reference cut into its parts (OCI distribution reference grammar, simplified). */
export interface ImageReference {
    /** Registry and path, e.g. `docker.io/oryd/kratos` or `oryd/kratos`. */
    repository: string;
    /** The tag, if any. */
    tag?: string;
    /** The digest after `@`, if any (not yet checked). */
    digest?: string;
}

/** Splits `repository[:tag][@digest]`; a `:` before the last `/` is a registry port, not a tag. */
export function parseImageReference(ref: string): ImageReference {
    const at = ref.indexOf("@");
    const name = at < 0 ? ref : ref.slice(0, at);
    const digest = at < 0 ? undefined : ref.slice(at + 1);
    const colon = name.indexOf(":", name.lastIndexOf("/") + 1);
    return {
        repository: colon < 0 ? name : name.slice(0, colon),
        ...(colon < 0 ? {} : { tag: name.slice(colon + 1) }),
        ...(digest === undefined ? {} : { digest }),
    };
}

/**
 * Why an image reference is not pinned as `name:tag@sha256:<digest>`, or undefined if it is. The message
 * quotes the reference (image names are not secret) and says how to fix it.
 */
export function imageProblem(ref: unknown): string | undefined {
    if (typeof ref !== "string" || ref.trim() === "") return "has no image";
    // Quoted with JSON escapes, so a line break or control character in a hostile value stays visible and inert.
    const shown = JSON.stringify(ref);
    if (/[\s\p{Cc}]/u.test(ref)) return `image ${shown} contains whitespace or control characters`;
    const { repository, tag, digest } = parseImageReference(ref);
    if (!repository || repository !== repository.toLowerCase()) return `image ${shown} must name a lowercase repository`;
    if (tag === undefined) return `image ${shown} has no tag (implicitly latest): pin it as ${PINNED_IMAGE_FORM}`;
    if (!TAG.test(tag)) return `image ${shown} has an invalid tag`;
    if (tag.toLowerCase() === "latest") return `image ${shown} uses the tag "latest", which moves: pin a version tag and its digest, ${PINNED_IMAGE_FORM}`;
    if (digest === undefined) return `image ${shown} has no digest: a tag can be moved to other content; pin ${PINNED_IMAGE_FORM} (${DIGEST_ADVICE})`;
    if (!DIGEST.test(digest)) return `image ${shown} has a malformed digest: expected @sha256: and 64 lowercase hex digits`;
    return undefined;
}

/**
 * Why a pinned image still cannot be pulled, or undefined: the all-zero digest (the placeholder Pulumi.yaml
 * ships for DCM's private frontend image) is no image's, so the first pull fails
 * (ErrImagePull) and nothing before it notices. Config validation accepts it (a fresh stack renders); the
 * render and the policy pack say it loudly.
 */
export function placeholderDigestProblem(ref: unknown): string | undefined {
    if (typeof ref !== "string" || imageProblem(ref) !== undefined) return undefined;
    const digest = parseImageReference(ref).digest!;
    if (digest !== `sha256:${"0".repeat(64)}`) return undefined;
    return `image ${JSON.stringify(ref)} has a placeholder digest that no registry serves: its pods will fail at the first pull (ErrImagePull); set the real digest (${DIGEST_ADVICE})`;
}
