/**
 * Runs the pack's real validators (the policy objects index.ts serves) outside the Pulumi CLI, over
 * resources as the engine presents them (the offline render's records become these with fromRecorded, in
 * scripts/lib/engine/policy-resources.ts), with the same argument objects @pulumi/policy's analyzer builds.
 */
import type {
    EnforcementLevel, Policy, PolicyPackConfig, PolicyResource as EnginePolicyResource, PolicyResourceOptions,
    ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, policies } from "./pack";

/** One resource as the policies see it. */
export interface PolicyResource {
    urn: string;
    type: string;
    name: string;
    /** Plain values, secrets unwrapped (as @pulumi/policy hands them to validators). */
    props: Record<string, unknown>;
    protect: boolean;
    parent?: string;
    dependencies?: string[];
    /** Per input property, the URNs its value came from. */
    propertyDependencies?: Record<string, string[]>;
    /**
     * The same props with `{ "$secret": v }` where the engine holds a secret (offline runs only). Used for the
     * Stack resource, so the secret-outputs policy can tell a secret output from a plain one.
     */
    markedProps?: Record<string, unknown>;
}

export interface PolicyViolation {
    policy: string;
    severity: "mandatory" | "advisory";
    urn?: string;
    message: string;
}

export interface EvaluationContext {
    /** Stack name (bank alias). */
    stack: string;
    /** Policy pack config as `--policy-pack-config` gives it: per policy, enforcementLevel and properties. */
    config?: PolicyPackConfig;
}

const STACK_TYPE = "pulumi:pulumi:Stack";

/** Resource policies only, over one resource (as `Analyze` runs for each registration). */
export function evaluateResource(resource: PolicyResource, context: EvaluationContext): PolicyViolation[] {
    const out: PolicyViolation[] = [];
    for (const policy of policies) {
        if (!isResourcePolicy(policy)) continue;
        const severity = severityOf(policy, context);
        if (!severity) continue;
        const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
        for (const validate of validations) {
            if (!validate) continue;
            const report: ReportViolation = (message) => { out.push({ policy: policy.name, severity, urn: resource.urn, message }); };
            runValidation(policy, () => validate(resourceArgs(resource, policy, context), report));
        }
    }
    return out;
}

/** Every resource policy over every resource, then every stack policy over the whole stack (as `AnalyzeStack`). */
export function evaluateStack(resources: PolicyResource[], context: EvaluationContext): PolicyViolation[] {
    const out = resources.flatMap((r) => evaluateResource(r, context));
    const markers = resources.some((r) => r.type === STACK_TYPE && r.markedProps !== undefined);
    for (const policy of policies) {
        if (!isStackPolicy(policy)) continue;
        const severity = severityOf(policy, context);
        if (!severity) continue;
        const report: ReportViolation = (message, urn) => { out.push({ policy: policy.name, severity, urn, message }); };
        const args: StackValidationArgs = {
            resources: stackResources(resources),
            stackTags: new Map(),
            // The runner says how it presents secrets, to the policies that ask (outputs-secrets).
            getConfig: <T extends object>() => ({ ...configOf(policy, context), ...(markers && policy.configSchema?.properties.secretMarkers ? { secretMarkers: true } : {}) }) as T,
            notApplicable,
        };
        runValidation(policy, () => policy.validateStack(args, report));
    }
    return out;
}

/** Names and severities of the pack's policies, for reports. */
export function policyCatalog(context?: Pick<EvaluationContext, "config">): { name: string; description: string; severity: "mandatory" | "advisory" | "disabled"; kind: "resource" | "stack" }[] {
    return policies.map((p) => ({
        name: p.name,
        description: p.description,
        severity: severityOf(p, { stack: "", ...context }) ?? "disabled",
        kind: isStackPolicy(p) ? "stack" : "resource",
    }));
}

class NotApplicableError extends Error {}

function notApplicable(reason?: string): never {
    throw new NotApplicableError(reason ?? "not applicable");
}

function runValidation(policy: Policy, run: () => unknown): void {
    try {
        const result = run();
        if (result instanceof Promise) throw new Error(`policy ${policy.name} is asynchronous; the offline evaluator runs synchronous validators only`);
    } catch (e) {
        if (e instanceof NotApplicableError) return;
        throw new Error(`policy ${policy.name} failed: ${(e as Error).message}`, { cause: e });
    }
}

function isResourcePolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is ResourceValidationPolicy {
    return !("validateStack" in p) || typeof (p as StackValidationPolicy).validateStack !== "function";
}

function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

/**
 * The CLI's rule (its ReconcilePolicyPackConfig): the policy's own entry in the pack config, then the config's
 * `all` entry, then the policy's own level, then the pack's; remediate reports as mandatory.
 */
function severityOf(policy: Policy, context: EvaluationContext): "mandatory" | "advisory" | undefined {
    const levelOf = (entry: PolicyPackConfig[string] | undefined) => (typeof entry === "string" ? entry : entry?.enforcementLevel);
    const level: EnforcementLevel = levelOf(context.config?.[policy.name]) ?? levelOf(context.config?.all) ?? policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL;
    if (level === "disabled") return undefined;
    return level === "advisory" ? "advisory" : "mandatory";
}

/** Schema defaults under the configured properties, as the CLI reconciles policy config before calling the pack. */
function configOf(policy: Policy, context: EvaluationContext): Record<string, unknown> {
    const defaults: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
        if ((schema as { default?: unknown }).default !== undefined) defaults[key] = (schema as { default?: unknown }).default;
    }
    const configured = context.config?.[policy.name];
    const props = typeof configured === "object" && configured !== null ? configured : {};
    const rest = Object.fromEntries(Object.entries(props).filter(([k]) => k !== "enforcementLevel"));
    return { ...defaults, ...rest };
}

function options(resource: PolicyResource): PolicyResourceOptions {
    return {
        protect: resource.protect,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(resource.parent ? { parent: resource.parent } : {}),
    };
}

function typeCheck(type: string) {
    return (resourceClass: unknown): boolean => {
        const cls = resourceClass as { __pulumiType?: unknown; isInstance?: (o: unknown) => boolean };
        if (typeof cls?.__pulumiType === "string" && cls.__pulumiType) return cls.__pulumiType === type;
        return typeof cls?.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
    };
}

function resourceArgs(resource: PolicyResource, policy: Policy, context: EvaluationContext): ResourceValidationArgs {
    const isType = typeCheck(resource.type);
    const props = resource.props as Record<string, any>;
    return {
        type: resource.type,
        props,
        urn: resource.urn,
        name: resource.name,
        opts: options(resource),
        stackTags: new Map(),
        isType: isType as ResourceValidationArgs["isType"],
        asType: ((cls: unknown) => (isType(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => configOf(policy, context) as T,
        notApplicable,
    };
}

/** The analyzer's stack view: parent and dependencies resolved to the resource objects. */
function stackResources(resources: PolicyResource[]): EnginePolicyResource[] {
    const byUrn = new Map<string, EnginePolicyResource>();
    const built = resources.map((r) => {
        const isType = typeCheck(r.type);
        // Only the Stack's outputs carry secret markers: that is where secretness is the rule being checked.
        const props = (r.type === STACK_TYPE && r.markedProps ? r.markedProps : r.props) as Record<string, any>;
        const view: EnginePolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: options(r),
            dependencies: [],
            propertyDependencies: {},
            isType: isType as EnginePolicyResource["isType"],
            asType: ((cls: unknown) => (isType(cls) ? props : undefined)) as EnginePolicyResource["asType"],
        };
        byUrn.set(r.urn, view);
        return view;
    });
    resources.forEach((r, i) => {
        if (r.parent && byUrn.has(r.parent)) built[i].parent = byUrn.get(r.parent);
        const resolve = (urns: string[]) => urns.map((d) => byUrn.get(d)).filter((d): d is EnginePolicyResource => d !== undefined);
        built[i].dependencies = resolve(r.dependencies ?? []);
        built[i].propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, urns]) => [k, resolve(urns)]));
    });
    return built;
}


/**
 * Policy config for a stack's own settings, as DevOps pass it with `--policy-pack-config` under the CLI: the
 * host-name rule gets the stack's baseDomain and environment. `config` is namespaced (`<project>:<key>`).
 */
export function stackPolicyConfig(project: string, config: Record<string, string>): PolicyPackConfig {
    const platform: Record<string, string> = {};
    for (const key of ["baseDomain", "environment"]) {
        const value = config[`${project}:${key}`];
        if (value !== undefined) platform[key] = value;
    }
    // The host naming rule of both routing modes reads the same two settings.
    return { "ingress-host-names": platform, "gateway-host-names": { ...platform } };
}
