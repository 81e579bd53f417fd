/**
 * The Pulumi engine's side of an offline run, inside the worker process: a mock resource monitor that
 * emulates the providers and records every registration with its options, as the engine would see it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { materialFor } from "./generated-material";
import { emulateResource } from "./provider-emulation";
import { SECRET_KEY } from "../../../domain/secret-values";

/** One resource as registered by the program. Values use `{ "$secret": v }` for secrets. */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** False for component resources. */
    custom: boolean;
    parent?: string;
    id?: string;
    /** Inputs the program sent. */
    inputs: Record<string, unknown>;
    /** Outputs the (emulated) provider returned. */
    outputs: Record<string, unknown>;
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    replaceOnChanges: string[];
    additionalSecretOutputs: string[];
    /** URNs this resource depends on (dependsOn and through Outputs). */
    dependencies: string[];
    /** Per input property, the URNs its value came from. */
    propertyDependencies: Record<string, string[]>;
    provider?: string;
}

export interface OfflineResult {
    project: string;
    stack: string;
    resources: RecordedResource[];
    /** Stack outputs, secrets marked. */
    outputs: Record<string, unknown>;
}

const WIRE_SIG = rpc.specialSigKey;
const WIRE_SECRET = rpc.specialSecretSig;

/** Pulumi wire format secrets to `{ "$secret": v }` markers. */
export function fromWire(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(fromWire);
    if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        if (o[WIRE_SIG] === WIRE_SECRET) return { [SECRET_KEY]: fromWire(o.value) };
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromWire(x)]));
    }
    return v;
}

function toWire(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(toWire);
    if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        if (Object.keys(o).length === 1 && SECRET_KEY in o) return { [WIRE_SIG]: WIRE_SECRET, value: toWire(o[SECRET_KEY]) };
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, toWire(x)]));
    }
    return v;
}

/** The URN the Pulumi engine gives a resource of `type` named `name` under the resource `parent` (a URN, or ""). */
export function engineUrn(stack: string, project: string, parent: string, type: string, name: string): string {
    const parentType = parent ? parent.split("::")[2] : "";
    const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

type Callback = (err: Error | null, resp?: unknown) => void;
interface MockMonitorInternals {
    resources: Map<string, { urn: string; id: string | null; state: unknown }>;
    transformCallbacks: Map<string, pulumi.ResourceTransform>;
    registerStackTransform(req: any, cb: Callback): void;
    newUrn(parent: string, type: string, name: string): string;
    registerResource(req: any, cb: Callback): Promise<void>;
    registerResourceOutputs(req: any, cb: Callback): void;
}

/** How the engine runs: as `pulumi preview` would, and with which seed for generated values. */
export interface OfflineEngineOptions {
    /** Run as `pulumi preview` would. */
    preview: boolean;
    /** Derive every generated value from this text and the resource's URN (a reproducible render); unset: random. */
    seed?: string;
    /** Called after each registration with the number registered so far (progress). */
    registered?: (count: number) => void;
}

/**
 * Installs the emulating monitor and returns a function that, once the program is done,
 * waits for every registration and returns what was recorded.
 */
export async function installOfflineEngine(project: string, stack: string, options: OfflineEngineOptions): Promise<() => Promise<OfflineResult>> {
    const { preview, seed } = options;
    await pulumi.runtime.setMocks({
        newResource: () => { throw new Error("unreachable: registrations are handled by the emulating monitor"); },
        call: (args) => { throw new Error(`the offline render cannot answer the invoke ${args.token}`); },
    }, project, stack, preview);
    const monitor = settings.getMonitor() as unknown as MockMonitorInternals;
    // The engine's URN rule (pkg/resource/urn.go, NewURN), not the mock's: the parent's whole qualified type
    // chain, except the root stack's type, which no URN carries. The mock keeps only the parent's last type
    // and keeps the root's, so a component's URN would read `pulumi:pulumi:Stack$...` as no real one does.
    monitor.newUrn = (parent: string, type: string, name: string) => engineUrn(stack, project, parent, type, name);
    const resproto = require("@pulumi/pulumi/proto/resource_pb");
    const structproto = require("google-protobuf/google/protobuf/struct_pb");
    const recorded: RecordedResource[] = [];
    let stackOutputs: Record<string, unknown> = {};
    // The program's registerResourceTransform: the engine applies stack transforms to every later registration
    // before the provider sees it; the mock monitor only hands them over, so they are applied here the same way.
    const stackTransforms: pulumi.ResourceTransform[] = [];
    monitor.registerStackTransform = (req: any, callback: Callback) => {
        const transform = monitor.transformCallbacks.get(req.getToken());
        if (transform) stackTransforms.push(transform);
        callback(null, {});
    };

    monitor.registerResource = async (req: any, callback: Callback) => {
        try {
            const type: string = req.getType();
            const name: string = req.getName();
            const custom: boolean = req.getCustom();
            let inputs = fromWire(rpc.deserializeProperties(req.getObject())) as Record<string, unknown>;
            for (const transform of stackTransforms) {
                const changed = await transform({ type, name, custom, props: inputs, opts: {} });
                if (changed) inputs = changed.props as Record<string, unknown>;
            }
            const urn = monitor.newUrn(req.getParent(), type, name);
            const material = materialFor(seed, urn);
            const result = await emulateResource({ type, name, inputs, custom, secretOutputs: req.getAdditionalsecretoutputsList(), material });
            const propertyDependencies: Record<string, string[]> = {};
            req.getPropertydependenciesMap().forEach((deps: any, key: string) => { propertyDependencies[key] = deps.getUrnsList(); });
            recorded.push({
                urn, type, name, custom,
                parent: req.getParent() || undefined,
                id: result.id,
                inputs,
                outputs: result.state,
                protect: Boolean(req.getProtect()),
                retainOnDelete: Boolean(req.getRetainondelete()),
                deleteBeforeReplace: Boolean(req.getDeletebeforereplace()),
                ignoreChanges: req.getIgnorechangesList(),
                replaceOnChanges: req.getReplaceonchangesList(),
                additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                dependencies: req.getDependenciesList(),
                propertyDependencies,
                provider: req.getProvider() || undefined,
            });
            options.registered?.(recorded.length);
            const serialized = await rpc.serializeProperties("", toWire(result.state) as Record<string, unknown>);
            monitor.resources.set(urn, { urn, id: result.id ?? null, state: serialized });
            const response = new resproto.RegisterResourceResponse();
            response.setUrn(urn);
            response.setId(result.id ?? "");
            response.setObject(structproto.Struct.fromJavaScript(serialized));
            callback(null, response);
        } catch (err) {
            callback(err as Error);
        }
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: Callback) => {
        const urn: string = req.getUrn();
        const outputs = fromWire(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>;
        if (urn.split("::")[2] === "pulumi:pulumi:Stack") stackOutputs = outputs;
        const resource = recorded.find((r) => r.urn === urn);
        if (resource && !resource.custom) resource.outputs = outputs;
        registerOutputs(req, callback);
    };

    return async () => {
        // Internal to the SDK (the CLI's runtime calls it before exit): waits until every registration is answered.
        await (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
        return { project, stack, resources: recorded, outputs: stackOutputs };
    };
}
