/** Mandatory: Kratos' admin API (port 4434) creates and deletes identities without authentication; it must stay in-cluster. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { backendsOf, INGRESS_TYPES } from "./lib/ingress";

/** Kratos' admin API port. */
export const KRATOS_ADMIN_PORT = 4434;

export const ingressNoKratosAdmin: ResourceValidationPolicy = {
    name: "ingress-no-kratos-admin",
    description: "No Ingress backend points at Kratos' admin API (port 4434, a port named admin, or a kratos-admin Service).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!INGRESS_TYPES.includes(args.type)) return;
        for (const b of backendsOf(args.props)) {
            const service = b.serviceName ?? "";
            if (b.portNumber === KRATOS_ADMIN_PORT) {
                reportViolation(`${b.where} routes to port ${KRATOS_ADMIN_PORT} of Service "${service}": the Kratos admin API must not be exposed.`);
            } else if (b.portName && /admin/i.test(b.portName)) {
                reportViolation(`${b.where} routes to port "${b.portName}" of Service "${service}": admin ports must not be exposed.`);
            } else if (/kratos.*admin|admin.*kratos/i.test(service)) {
                reportViolation(`${b.where} routes to Service "${service}": the Kratos admin API must not be exposed.`);
            }
        }
    },
};
