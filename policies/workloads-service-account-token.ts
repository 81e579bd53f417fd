/** Advisory: a mounted service-account token lets a compromised pod talk to the Kubernetes API; only a pod with its own, deliberately bound account needs one. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { podSpecOf } from "./lib/kubernetes";

export const workloadsServiceAccountToken: ResourceValidationPolicy = {
    name: "workloads-service-account-token",
    description: "Pod specs running as the namespace's default service account set automountServiceAccountToken: false.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        const spec = podSpecOf(args.type, args.props);
        if (!spec) return;
        // A dedicated account is a deliberate grant (e.g. the first-employee Job writes its Secret): its token is intended.
        const account = typeof spec.serviceAccountName === "string" && spec.serviceAccountName ? spec.serviceAccountName : "default";
        if (account === "default" && spec.automountServiceAccountToken !== false) {
            reportViolation("automountServiceAccountToken is not false: the pod gets a token of the default service account it does not need.");
        }
    },
};
