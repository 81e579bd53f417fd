/** Advisory: one frontend replica means every node drain or crash takes the bank officer's backoffice offline. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { replicasOf } from "./lib/availability";
import { workloadRole } from "./lib/kubernetes";

export const availabilityFrontendReplicas: ResourceValidationPolicy = {
    name: "availability-frontend-replicas",
    description: "The backoffice frontend runs at least 2 replicas.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "kubernetes:apps/v1:Deployment" || workloadRole(args.type, args.props) !== "frontend") return;
        const replicas = replicasOf(args.props);
        if (replicas < 2) reportViolation(`The frontend runs ${replicas} replica(s): run at least 2 so a drain or crash does not take the backoffice down.`);
    },
};
