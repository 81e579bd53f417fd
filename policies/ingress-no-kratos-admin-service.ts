/** Mandatory: catches an Ingress reaching the Kratos admin API through a Service port that forwards to 4434 under another number or name. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { backendsOf, INGRESS_TYPES } from "./lib/ingress";
import { isObject, nameOf, namespaceOf } from "./lib/kubernetes";
import { KRATOS_ADMIN_PORT } from "./ingress-no-kratos-admin";

const SERVICE_TYPE = "kubernetes:core/v1:Service";

export const ingressNoKratosAdminService: StackValidationPolicy = {
    name: "ingress-no-kratos-admin-service",
    description: "No Ingress backend resolves, through its Service, to the Kratos admin port 4434.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const services = args.resources.filter((r) => r.type === SERVICE_TYPE);
        for (const ingress of args.resources.filter((r) => INGRESS_TYPES.includes(r.type))) {
            const ns = namespaceOf(ingress.props);
            for (const b of backendsOf(ingress.props)) {
                const service = services.find((s) => nameOf(s.props) === b.serviceName && namespaceOf(s.props) === ns);
                const ports: unknown[] = service && isObject(service.props.spec) && Array.isArray(service.props.spec.ports) ? service.props.spec.ports : [];
                const port = ports.find((p) => isObject(p) && ((b.portNumber !== undefined && p.port === b.portNumber) || (b.portName !== undefined && p.name === b.portName)));
                if (!isObject(port)) continue;
                const target = port.targetPort ?? port.port;
                if (target === KRATOS_ADMIN_PORT || (typeof target === "string" && /admin/i.test(target))) {
                    reportViolation(`${b.where} of Ingress "${nameOf(ingress.props)}" reaches Service "${b.serviceName}" port ${String(port.port)} -> ${String(target)}: the Kratos admin API must not be exposed.`, ingress.urn);
                }
            }
        }
    },
};
