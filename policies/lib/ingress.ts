/** Reading Ingress objects: their hosts, TLS entries and backends. */
import { isObject, Obj } from "./kubernetes";

export const INGRESS_TYPES = ["kubernetes:networking.k8s.io/v1:Ingress"];

export interface Backend {
    /** e.g. `rules[0] "api-x..." path "/"` */
    where: string;
    serviceName?: string;
    portNumber?: number;
    portName?: string;
}

/** Host of every rule (undefined for a rule without host: it matches every host). */
export function ruleHosts(props: Obj): (string | undefined)[] {
    const rules = isObject(props.spec) && Array.isArray(props.spec.rules) ? props.spec.rules : [];
    return rules.map((r: unknown) => (isObject(r) && typeof r.host === "string" && r.host ? r.host : undefined));
}

export function tlsEntries(props: Obj): Obj[] {
    return isObject(props.spec) && Array.isArray(props.spec.tls) ? props.spec.tls.filter(isObject) : [];
}

/** The default backend and every path's backend. */
export function backendsOf(props: Obj): Backend[] {
    const spec = isObject(props.spec) ? props.spec : {};
    const out: Backend[] = [];
    const add = (where: string, backend: unknown) => {
        const service = isObject(backend) && isObject(backend.service) ? backend.service : undefined;
        if (!service) return;
        const port = isObject(service.port) ? service.port : {};
        out.push({
            where,
            serviceName: typeof service.name === "string" ? service.name : undefined,
            portNumber: typeof port.number === "number" ? port.number : undefined,
            portName: typeof port.name === "string" ? port.name : undefined,
        });
    };
    add("defaultBackend", spec.defaultBackend);
    (Array.isArray(spec.rules) ? spec.rules : []).forEach((rule: unknown, i: number) => {
        if (!isObject(rule) || !isObject(rule.http) || !Array.isArray(rule.http.paths)) return;
        rule.http.paths.forEach((p: unknown) => {
            if (isObject(p)) add(`rules[${i}] ${rule.host ? `"${String(rule.host)}" ` : ""}path "${String(p.path ?? "/")}"`, p.backend);
        });
    });
    return out;
}
