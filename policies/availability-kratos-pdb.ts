/** Advisory: once Kratos runs more than one replica, a drain without a PodDisruptionBudget can still log every officer out at once. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { hasPdb, replicasOf, workloadsOf } from "./lib/availability";
import { nameOf, selectorMatches } from "./lib/kubernetes";

export const availabilityKratosPdb: StackValidationPolicy = {
    name: "availability-kratos-pdb",
    description: "Kratos has a PodDisruptionBudget when it runs more than one replica.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        for (const kratos of workloadsOf(args.resources, "kratos")) {
            if (replicasOf(kratos.props) > 1 && !hasPdb(args.resources, kratos, selectorMatches)) {
                reportViolation(`Kratos "${nameOf(kratos.props)}" runs ${replicasOf(kratos.props)} replicas but no PodDisruptionBudget selects its pods.`, kratos.urn);
            }
        }
    },
};
