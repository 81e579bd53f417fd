/** Advisory: without a readiness probe traffic reaches pods that are not ready; without a liveness probe a hung pod is never restarted. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isObject, podSpecOf } from "./lib/kubernetes";

export const workloadsProbes: ResourceValidationPolicy = {
    name: "workloads-probes",
    description: "Long-running containers (not Jobs or init containers) have readiness and liveness probes.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type === "kubernetes:batch/v1:Job" || args.type === "kubernetes:batch/v1:CronJob") return;
        const spec = podSpecOf(args.type, args.props);
        if (!spec) return;
        for (const { where, container, list } of containersOf(spec)) {
            if (list !== "containers") continue;
            const missing = ["readinessProbe", "livenessProbe"].filter((p) => !isObject(container[p]));
            if (missing.length) reportViolation(`${where} has no ${missing.join(" or ")}.`);
        }
    },
};
