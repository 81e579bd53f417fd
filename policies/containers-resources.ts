/** Mandatory: a container without requests and limits starves its neighbours or is evicted first, and the namespace quota rejects it. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isObject, podSpecOf } from "./lib/kubernetes";

export const containersResources: ResourceValidationPolicy = {
    name: "containers-resources",
    description: "Every container, init containers included, sets cpu and memory requests and limits.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const spec = podSpecOf(args.type, args.props);
        if (!spec) return;
        for (const { where, container, list } of containersOf(spec)) {
            // Ephemeral (debug) containers cannot carry resources.
            if (list === "ephemeralContainers") continue;
            const resources = isObject(container.resources) ? container.resources : {};
            for (const kind of ["requests", "limits"]) {
                const set = isObject(resources[kind]) ? resources[kind] : {};
                const missing = ["cpu", "memory"].filter((r) => set[r] === undefined || set[r] === null || set[r] === "");
                if (missing.length) reportViolation(`${where} has no resources.${kind}.${missing.join(" or ")}.`);
            }
        }
    },
};
