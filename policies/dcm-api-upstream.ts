/** Mandatory: a catch-all or an unverified upstream on the api host hands any path, and the bank's tokens, to whatever answers. */
// Both routing modes: the api host forwards to DCM's API only an allow-list of paths, never a catch-all, and over
// HTTPS whose certificate is verified. gateway-api: a backendRef into another namespace has no `/` prefix (nor a rule
// without matches), a ReferenceGrant there allows exactly this route's namespace, and a BackendTLSPolicy with a CA
// and a hostname targets the Service. ingress-nginx: an Ingress path to an ExternalName Service is no `/` prefix, and
// its Ingress sets backend-protocol HTTPS with proxy-ssl-verify, -secret and -name.
import type { StackValidationPolicy } from "@pulumi/policy";
import { BACKEND_TLS_POLICY_TYPE, backendRefsOf, HTTP_ROUTE_TYPE, pathMatchesOf, REFERENCE_GRANT_TYPE, rulesOf } from "./lib/gateway";
import { backendsOf, INGRESS_TYPES } from "./lib/ingress";
import { isObject, nameOf, namespaceOf, Obj } from "./lib/kubernetes";

const SERVICE_TYPE = "kubernetes:core/v1:Service";
const NGINX = "nginx.ingress.kubernetes.io/";
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : []);

export const dcmApiUpstream: StackValidationPolicy = {
    name: "dcm-api-upstream",
    description: "DCM's API (a Service in another namespace, or an ExternalName) gets an allow-list of paths, never a catch-all, over verified HTTPS.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const of = (type: string) => args.resources.filter((r) => r.type === type);
        for (const route of of(HTTP_ROUTE_TYPE)) {
            const ns = namespaceOf(route.props);
            rulesOf(route.props).forEach((rule, i) => {
                for (const b of backendRefsOf(rule, ns).filter((x) => x.namespace !== ns)) {
                    const where = `rules[${i}] of HTTPRoute "${nameOf(route.props)}" (to ${b.namespace}/${b.name})`;
                    const catchAll = pathMatchesOf(rule).find((m) => (m.type === "PathPrefix" && (m.value === "/" || m.value === "")) || m.type === "RegularExpression");
                    if (catchAll) reportViolation(`${where} matches ${catchAll.type} "${catchAll.value}": DCM's API gets only the allow-list (dcmApiPaths), never a catch-all.`, route.urn);
                    const granted = of(REFERENCE_GRANT_TYPE).some((g) => namespaceOf(g.props) === b.namespace && isObject(g.props.spec)
                        && list(g.props.spec.from).some((f) => f.kind === "HTTPRoute" && f.namespace === ns)
                        && list(g.props.spec.to).some((t) => t.kind === "Service" && (t.name === undefined || t.name === b.name)));
                    if (!granted) reportViolation(`${where} crosses namespaces without a ReferenceGrant in ${b.namespace} from HTTPRoutes of ${ns}: the Gateway refuses the reference.`, route.urn);
                    const verified = of(BACKEND_TLS_POLICY_TYPE).some((p) => namespaceOf(p.props) === b.namespace && isObject(p.props.spec)
                        && list(p.props.spec.targetRefs).some((t) => t.kind === "Service" && t.name === b.name)
                        && isObject(p.props.spec.validation) && typeof p.props.spec.validation.hostname === "string"
                        && (list(p.props.spec.validation.caCertificateRefs).length > 0 || p.props.spec.validation.wellKnownCACertificates === "System"));
                    if (!verified) reportViolation(`${where} has no BackendTLSPolicy with a CA and a hostname for Service ${b.namespace}/${b.name}: DCM's API would be reached in clear text or unverified.`, route.urn);
                }
            });
        }
        const externalNames = new Set(of(SERVICE_TYPE).filter((s) => isObject(s.props.spec) && s.props.spec.type === "ExternalName").map((s) => `${namespaceOf(s.props)}/${nameOf(s.props)}`));
        for (const ingress of args.resources.filter((r) => INGRESS_TYPES.includes(r.type))) {
            const ns = namespaceOf(ingress.props);
            const annotations = (isObject(ingress.props.metadata) && isObject(ingress.props.metadata.annotations) ? ingress.props.metadata.annotations : {}) as Record<string, unknown>;
            const paths = isObject(ingress.props.spec) ? list(ingress.props.spec.rules).flatMap((r) => (isObject(r.http) ? list(r.http.paths) : [])) : [];
            const upstream = backendsOf(ingress.props).filter((b) => externalNames.has(`${ns}/${b.serviceName}`));
            if (upstream.length === 0) continue;
            for (const p of paths.filter((x) => isObject(x.backend) && isObject(x.backend.service) && externalNames.has(`${ns}/${String(x.backend.service.name)}`))) {
                if (p.path === "/" || p.path === "" || p.path === undefined || p.pathType === "ImplementationSpecific") {
                    reportViolation(`Ingress "${nameOf(ingress.props)}" sends path "${String(p.path ?? "")}" (${String(p.pathType)}) to DCM's API: only the allow-list (dcmApiPaths, Prefix paths), never a catch-all.`, ingress.urn);
                }
            }
            const missing = [["backend-protocol", "HTTPS"], ["proxy-ssl-verify", "on"], ["proxy-ssl-secret", undefined], ["proxy-ssl-name", undefined]]
                .filter(([k, v]) => (v === undefined ? !annotations[`${NGINX}${k}`] : annotations[`${NGINX}${k}`] !== v)).map(([k, v]) => `${k}${v ? `: "${v}"` : ""}`);
            if (missing.length) reportViolation(`Ingress "${nameOf(ingress.props)}" reaches DCM's API without ${missing.join(", ")}: HTTPS with its certificate verified.`, ingress.urn);
        }
    },
};
