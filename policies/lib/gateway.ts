/** Reading Gateway API objects (routing gateway-api) as policies see them: listeners, routes, their rules and backends. */
import { isObject, nameOf, namespaceOf, Obj } from "./kubernetes";

export const LISTENER_SET_TYPE = "kubernetes:gateway.networking.k8s.io/v1:ListenerSet";
/** A bank's own Gateway (gatewayListeners bank-gateway): the same listeners as the ListenerSet, for implementations without one. */
export const GATEWAY_TYPE = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
/** The types that hold a bank's listeners. */
export const LISTENER_HOLDER_TYPES: readonly string[] = [LISTENER_SET_TYPE, GATEWAY_TYPE];
export const HTTP_ROUTE_TYPE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
export const REFERENCE_GRANT_TYPE = "kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant";
export const BACKEND_TLS_POLICY_TYPE = "kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy";
/** The header every HTTPS answer carries (a Gateway adds none by itself). */
export const HSTS_HEADER = "strict-transport-security";

const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** The listeners of a ListenerSet (or Gateway). */
export function listenersOf(props: Obj): Obj[] {
    return list(isObject(props.spec) ? props.spec.listeners : undefined);
}

/** An HTTPRoute's rules. */
export function rulesOf(props: Obj): Obj[] {
    return list(isObject(props.spec) ? props.spec.rules : undefined);
}

/** An HTTPRoute's parent references. */
export function parentRefsOf(props: Obj): Obj[] {
    return list(isObject(props.spec) ? props.spec.parentRefs : undefined);
}

/** An HTTPRoute's hostnames. */
export function hostnamesOf(props: Obj): string[] {
    const v = isObject(props.spec) ? props.spec.hostnames : undefined;
    return Array.isArray(v) ? v.filter((h): h is string => typeof h === "string") : [];
}

/** A rule's filters of one type. */
export function filtersOf(rule: Obj, type: string): Obj[] {
    return list(rule.filters).filter((f) => f.type === type);
}

/** A rule's backendRefs (Service kind by default), with the namespace they resolve to. */
export function backendRefsOf(rule: Obj, routeNamespace: string | undefined): { name: string; namespace?: string; port?: number; kind: string; group: string }[] {
    return list(rule.backendRefs).map((b) => ({
        name: String(b.name ?? ""), namespace: typeof b.namespace === "string" ? b.namespace : routeNamespace,
        port: typeof b.port === "number" ? b.port : undefined, kind: String(b.kind ?? "Service"), group: String(b.group ?? ""),
    }));
}

/** A rule's path matches (a rule without matches matches every path, as PathPrefix `/`). */
export function pathMatchesOf(rule: Obj): { type: string; value: string }[] {
    const matches = list(rule.matches);
    if (matches.length === 0) return [{ type: "PathPrefix", value: "/" }];
    return matches.map((m) => (isObject(m.path) ? { type: String(m.path.type ?? "PathPrefix"), value: String(m.path.value ?? "/") } : { type: "PathPrefix", value: "/" }));
}

/** Whether a PathPrefix match covers a path, element-wise as the Gateway API defines it. */
export function prefixCovers(prefix: string, path: string): boolean {
    if (prefix === "/") return true;
    const p = prefix.replace(/\/$/, "");
    return path === p || path.startsWith(`${p}/`);
}

/** Whether a rule sets Strict-Transport-Security on its responses. */
export function setsHsts(rule: Obj): boolean {
    return filtersOf(rule, "ResponseHeaderModifier").some((f) => isObject(f.responseHeaderModifier)
        && [...list(f.responseHeaderModifier.set), ...list(f.responseHeaderModifier.add)]
            .some((h) => typeof h.name === "string" && h.name.toLowerCase() === HSTS_HEADER && /max-age=\d+/.test(String(h.value ?? ""))));
}

/** A listener by `<namespace>/<kind>/<ListenerSet or Gateway name>/<listener name>`. */
export function listenerIndex(resources: { type: string; props: Obj }[]): Map<string, Obj> {
    const out = new Map<string, Obj>();
    for (const r of resources.filter((x) => LISTENER_HOLDER_TYPES.includes(x.type))) {
        const kind = r.type.split(":").pop();
        for (const l of listenersOf(r.props)) out.set(`${namespaceOf(r.props) ?? ""}/${kind}/${nameOf(r.props)}/${String(l.name)}`, l);
    }
    return out;
}
