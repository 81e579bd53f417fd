/**
 * The platform setting skipAwait: the Kubernetes provider's documented `pulumi.com/skipAwait` annotation on every
 * Kubernetes object of the stack. Without it, `pulumi up` waits for a Deployment's pods, a Job's completion, a
 * Service's endpoints and an Ingress' address, and on delete for the garbage collector: an API server with no
 * nodes and no controllers (the real-component tests) gives none of these, so each would time out after 10 minutes.
 */
import * as pulumi from "@pulumi/pulumi";

export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

/** Adds the annotation to a Kubernetes object's metadata; leaves every other resource (and providers) as it is. */
export function skipAwaitTransform(args: pulumi.ResourceTransformArgs): pulumi.ResourceTransformResult | undefined {
    if (!args.custom || !args.type.startsWith("kubernetes:")) return undefined;
    const metadata = (args.props.metadata ?? {}) as { annotations?: Record<string, string> };
    return {
        props: { ...args.props, metadata: { ...metadata, annotations: { ...metadata.annotations, [SKIP_AWAIT_ANNOTATION]: "true" } } },
        opts: args.opts,
    };
}
