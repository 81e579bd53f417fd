/** Advisory: without a PodDisruptionBudget a node drain may evict every frontend pod at once. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { hasPdb, workloadsOf } from "./lib/availability";
import { nameOf, selectorMatches } from "./lib/kubernetes";

export const availabilityFrontendPdb: StackValidationPolicy = {
    name: "availability-frontend-pdb",
    description: "The backoffice frontend has a PodDisruptionBudget selecting its pods.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        for (const frontend of workloadsOf(args.resources, "frontend")) {
            if (!hasPdb(args.resources, frontend, selectorMatches)) {
                reportViolation(`The frontend "${nameOf(frontend.props)}" has no PodDisruptionBudget selecting its pods.`, frontend.urn);
            }
        }
    },
};
