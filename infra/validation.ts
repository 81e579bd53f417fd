/**
 * Validates a whole stack configuration (plan step 8's onboarding data plus the platform settings) over the
 * domain's rules (domain/), reporting every problem at once. No Pulumi import: the program, the offline render
 * and Jira onboarding all call it.
 */
import { API_SERVER_RULE, cidrList, CidrListRule, SERVER_RULE } from "../domain/cidrs";
import { BankConfig, CONFIG_KEYS, ConfigProblem, OPERATOR_BACKEND_SCHEMES, OPERATOR_RESYNC_RANGE, OperatorSettings, PlatformConfig, RawConfig, SECRET_KEYS, SigningKeySlot, TLS_MODES, TlsMode, ValidationResult } from "../domain/config";
import { imageProblem } from "../domain/images";
import { backofficeLabel, deriveSettings } from "../domain/names";
import { validateEdge } from "../domain/routing";
import {
    aliasLimits, bankFieldRules, characterProblem, DNS_LABEL, DNS_LABEL_RULE, dnsNameProblem, keepsBankFieldRule, keyKeeperHostProblem,
    MAX_HOST, MAX_LABEL, secretValueProblem, urlProblem,
} from "../domain/rules";
import { isSigningAlgorithm, MIN_RSA_BITS, rsaBitsProblem, SIGNING_ALGORITHMS, SIGNING_KEYS } from "../domain/signing";

const SLOT = /^[a-z][a-z0-9]{0,15}$/;

/**
 * Validates a whole stack configuration and derives its names. Reports every problem at once.
 * @param raw config values keyed without the project namespace
 * @param stackName the Pulumi stack name, which must equal the alias
 */
export function validateStackConfig(raw: RawConfig, stackName: string): ValidationResult {
    const problems: ConfigProblem[] = [];
    const fail = (key: string, message: string) => problems.push({ key, message });

    for (const key of Object.keys(raw)) {
        if (!(key in CONFIG_KEYS)) {
            const hint = closestKey(key);
            fail(key, `is not a known setting${hint ? `; did you mean '${hint}'?` : ""}`);
        }
    }

    const str = (key: string): string | undefined => {
        const v = raw[key];
        if (v === undefined || v === null || v === "") return undefined;
        if (typeof v !== "string") {
            fail(key, `must be a string, got ${typeof v}`);
            return undefined;
        }
        const bad = characterProblem(v);
        if (bad) {
            // Checked before any other rule, so no message quotes a value holding a line break.
            fail(key, bad);
            return undefined;
        }
        return v;
    };
    const required = (key: string): string | undefined => {
        const v = str(key);
        if (v === undefined && !problems.some((p) => p.key === key)) fail(key, "is required");
        return v;
    };

    // Platform first: the alias' length rule depends on the environment and base domain.
    const environment = required("environment");
    if (environment !== undefined && !DNS_LABEL.test(environment)) fail("environment", DNS_LABEL_RULE);
    const baseDomain = required("baseDomain");
    if (baseDomain !== undefined) {
        const rule = dnsNameProblem(baseDomain);
        if (rule) fail("baseDomain", rule);
    }
    const ingressClass = required("ingressClass");
    if (ingressClass !== undefined && !DNS_LABEL.test(ingressClass)) fail("ingressClass", DNS_LABEL_RULE);
    const tlsMode = required("tlsMode");
    if (tlsMode !== undefined && !TLS_MODES.includes(tlsMode as TlsMode)) {
        fail("tlsMode", `must be one of ${TLS_MODES.join(", ")}; got '${tlsMode}'`);
    }
    const tlsIssuer = str("tlsIssuer") ?? "";
    if (tlsMode === "cert-manager" && !tlsIssuer) fail("tlsIssuer", "is required when tlsMode is cert-manager");
    if (tlsIssuer && dnsNameProblem(tlsIssuer)) fail("tlsIssuer", "must be a Kubernetes object name (a DNS subdomain)");
    const tlsSecretName = str("tlsSecretName") ?? "";
    if (tlsMode === "provided" && !tlsSecretName) fail("tlsSecretName", "is required when tlsMode is provided");
    if (tlsSecretName && dnsNameProblem(tlsSecretName)) fail("tlsSecretName", "must be a Kubernetes object name (a DNS subdomain)");
    const images = {
        frontend: image("frontendImage"),
        kratos: image("kratosImage"),
        jwksServer: image("jwksServerImage"),
        bootstrap: image("bootstrapImage"),
    };
    const dcmApiUpstream = required("dcmApiUpstream");
    const edge = validateEdge({
        routing: str("routing"), gatewayName: str("gatewayName"), gatewayNamespace: str("gatewayNamespace"),
        gatewayListeners: str("gatewayListeners"), gatewayClassName: str("gatewayClassName"), edgeRateLimit: str("edgeRateLimit"),
        trustedProxyCidrs: raw.trustedProxyCidrs, dcmApiUpstream, dcmApiPaths: raw.dcmApiPaths, dcmApiCa: str("dcmApiCa"),
    }, (key, message) => {
        if (!(key === "dcmApiUpstream" && dcmApiUpstream === undefined)) fail(key, message);
    });

    // The edge's proxy pods: by default where the routing mode's proxies run (a default taken from a broken
    // gatewayNamespace is reported there, once).
    // Empty (Pulumi.yaml's default) means unset: the namespace follows routing.
    const ownIngressNamespace = str("ingressNamespace") || undefined;
    const ingressNamespace = ownIngressNamespace ?? (str("routing") === "ingress-nginx" ? "ingress-nginx" : edge?.gateway.namespace);
    if (ownIngressNamespace !== undefined && !DNS_LABEL.test(ownIngressNamespace)) fail("ingressNamespace", DNS_LABEL_RULE);
    // No default: a permissive one (0.0.0.0/0) would let the pod holding the recovery link reach the internet.
    const apiServerCidr = cidrs("apiServerCidr", API_SERVER_RULE);
    const signerNamespace = required("signerNamespace");
    if (signerNamespace !== undefined && !DNS_LABEL.test(signerNamespace)) fail("signerNamespace", DNS_LABEL_RULE);
    const signerServiceAccount = required("signerServiceAccount");
    if (signerServiceAccount !== undefined && dnsNameProblem(signerServiceAccount)) fail("signerServiceAccount", "must be a Kubernetes object name (a DNS subdomain)");

    // The bank: the step-8 fields' rules are data (bankFieldRules), which the JSON Schema states too.
    const allowPrivateRaw = str("allowPrivateKeyKeeper") ?? "false";
    const env = environment ?? "integrate";
    const rules = bankFieldRules({ environment: env, baseDomain: baseDomain ?? "", allowPrivateKeyKeeper: allowPrivateRaw === "true" });
    const alias = required("alias");
    if (alias !== undefined) {
        if (!new RegExp(rules.alias.pattern!, "u").test(alias)) {
            fail("alias", rules.alias.rule);
        } else {
            if (alias !== stackName) fail("alias", `must equal the stack name '${stackName}' (one stack per bank alias); got '${alias}'`);
            const longest = backofficeLabel(alias, env);
            const limits = aliasLimits(env, baseDomain);
            if (alias.length > limits.label) {
                fail("alias", `is too long: host label '${longest}' has ${longest.length} characters, a DNS label allows ${MAX_LABEL} (at most ${limits.label} for the alias)`);
            } else if (alias.length > limits.host) {
                fail("alias", `makes host '${longest}.${baseDomain}' longer than ${MAX_HOST} characters`);
            }
        }
    }
    const displayName = required("displayName");
    if (displayName !== undefined && !keepsBankFieldRule(rules.displayName, displayName)) fail("displayName", rules.displayName.rule);
    const assetCode = str("assetCode") ?? rules.assetCode.default!;
    if (!keepsBankFieldRule(rules.assetCode, assetCode)) fail("assetCode", `${rules.assetCode.rule}; '${assetCode}' is not one`);
    const firstEmployeeEmail = required("firstEmployeeEmail");
    if (firstEmployeeEmail !== undefined && !keepsBankFieldRule(rules.firstEmployeeEmail, firstEmployeeEmail)) {
        fail("firstEmployeeEmail", `${rules.firstEmployeeEmail.rule}; got '${firstEmployeeEmail}'`);
    }
    if (allowPrivateRaw !== "true" && allowPrivateRaw !== "false") fail("allowPrivateKeyKeeper", `must be true or false; got '${allowPrivateRaw}'`);
    const allowPrivateKeyKeeper = allowPrivateRaw === "true";
    const skipAwaitRaw = str("skipAwait") ?? "false";
    if (skipAwaitRaw !== "true" && skipAwaitRaw !== "false") fail("skipAwait", `must be true or false; got '${skipAwaitRaw}'`);
    const operator = operatorSettings();
    const keyKeeperUrl = required("keyKeeperUrl");
    if (keyKeeperUrl !== undefined) {
        const rule = urlProblem(keyKeeperUrl, ["https:"]) ?? keyKeeperHostProblem(new URL(keyKeeperUrl).hostname, allowPrivateKeyKeeper);
        if (rule) fail("keyKeeperUrl", rule);
    }
    const signingKeys = signingKeySlots(raw.signingKeys, fail);
    const activeSigningKey = str("activeSigningKey") ?? signingKeys[0]?.slot ?? "a";
    if (signingKeys.length > 0 && !signingKeys.some((k) => k.slot === activeSigningKey)) {
        fail("activeSigningKey", `must name one of the signingKeys slots (${signingKeys.map((k) => k.slot).join(", ")}); got '${activeSigningKey}'`);
    }

    const devModeRaw = str("kratosDevMode") ?? "false";
    if (devModeRaw !== "true" && devModeRaw !== "false") fail("kratosDevMode", `must be true or false; got '${devModeRaw}'`);
    const kratosDevMode = devModeRaw === "true";
    // The database and mail server addresses go with the DSN and SMTP URI: required outside dev mode, refused in it.
    const serverCidrs = (key: string): string[] => {
        const present = raw[key] !== undefined && raw[key] !== null && raw[key] !== "";
        if (kratosDevMode && present) fail(key, "must not be set when kratosDevMode is true: dev mode has no database or mail server");
        if (kratosDevMode || devModeRaw !== "false") return [];
        return cidrs(key, SERVER_RULE) ?? [];
    };
    const kratosDatabaseCidrs = serverCidrs("kratosDatabaseCidrs");
    const kratosSmtpCidrs = serverCidrs("kratosSmtpCidrs");
    for (const key of SECRET_KEYS) {
        const value = raw[key];
        const present = typeof value === "string" && value !== "";
        const bad = present ? characterProblem(value) : undefined;
        if (bad) {
            fail(key, bad);
        } else if (kratosDevMode && present) {
            fail(key, "must not be set when kratosDevMode is true: dev mode uses an in-pod SQLite database and no mail server");
        } else if (!kratosDevMode && devModeRaw === "false" && !present) {
            fail(key, `is required unless kratosDevMode is true; set it with \`pulumi config set --secret ${key} <value>\``);
        } else if (present) {
            const rule = secretValueProblem(key, value);
            if (rule) fail(key, rule);
        }
    }

    if (problems.length > 0) return { ok: false, problems };
    const platform: PlatformConfig = {
        baseDomain: baseDomain!,
        environment: environment!,
        ingressClass: ingressClass!,
        tlsMode: tlsMode as TlsMode,
        tlsIssuer,
        tlsSecretName,
        images: images as PlatformConfig["images"],
        dcmApiUpstream: dcmApiUpstream!,
        edge: edge!,
        ingressNamespace: ingressNamespace!,
        apiServerCidr: apiServerCidr!,
        signerNamespace: signerNamespace!,
        signerServiceAccount: signerServiceAccount!,
        allowPrivateKeyKeeper,
        skipAwait: skipAwaitRaw === "true",
        operator: operator!,
    };
    const bank: BankConfig = {
        alias: alias!,
        displayName: displayName!,
        assetCode,
        firstEmployeeEmail: firstEmployeeEmail!,
        keyKeeperUrl: keyKeeperUrl!,
        signingKeys,
        activeSigningKey,
        kratosDevMode,
        kratosDatabaseCidrs,
        kratosSmtpCidrs,
    };
    return { ok: true, settings: deriveSettings(bank, platform) };

    /** A required list of CIDRs (see domain/cidrs.ts); every broken entry is reported. */
    function cidrs(key: string, rule: CidrListRule): string[] | undefined {
        const value = raw[key];
        if (value === undefined || value === null || value === "") {
            fail(key, `is required; ${rule.hint}`);
            return undefined;
        }
        const result = cidrList(value, rule);
        for (const problem of result.problems) fail(problem.startsWith("[") ? `${key}${problem.slice(0, problem.indexOf("]") + 1)}` : key, problem.startsWith("[") ? problem.slice(problem.indexOf("]") + 2) : problem);
        return result.problems.length === 0 ? result.cidrs : undefined;
    }

    /** The operator's settings (Pulumi.yaml defaults), checked with the rest so one run reports every problem. */
    function operatorSettings(): OperatorSettings | undefined {
        const namespace = required("operatorNamespace");
        if (namespace !== undefined && !DNS_LABEL.test(namespace)) fail("operatorNamespace", DNS_LABEL_RULE);
        const backend = required("operatorBackend");
        if (backend !== undefined) {
            let scheme = "";
            try {
                scheme = new URL(backend).protocol;
            } catch {
                fail("operatorBackend", `must be a backend URL (${OPERATOR_BACKEND_SCHEMES.map((s) => `${s}//`).join(", ")}); got '${backend}'`);
            }
            if (scheme === "file:") fail("operatorBackend", "must be a shared backend (s3://, gs://, azblob:// or https://): a file:// backend lives on one pod's disk or one laptop, and the next workspace would not find the state");
            else if (scheme && !OPERATOR_BACKEND_SCHEMES.includes(scheme)) fail("operatorBackend", `must use ${OPERATOR_BACKEND_SCHEMES.map((s) => `${s}//`).join(", ")}; got '${scheme}//'`);
            else if (scheme && /\/\/[^/]*@/.test(backend)) fail("operatorBackend", "must not contain credentials: they belong in operatorCredentialsSecret");
        }
        const programRepo = required("operatorProgramRepo");
        if (programRepo !== undefined) {
            const rule = urlProblem(programRepo, ["https:"]);
            if (rule) fail("operatorProgramRepo", rule);
        }
        const credentialsSecret = required("operatorCredentialsSecret");
        if (credentialsSecret !== undefined && dnsNameProblem(credentialsSecret)) fail("operatorCredentialsSecret", "must be a Kubernetes object name (a DNS subdomain)");
        const resyncRaw = required("operatorResyncSeconds");
        const resyncSeconds = Number(resyncRaw);
        if (resyncRaw !== undefined && (!/^\d+$/.test(resyncRaw) || resyncSeconds < OPERATOR_RESYNC_RANGE.min || resyncSeconds > OPERATOR_RESYNC_RANGE.max)) {
            fail("operatorResyncSeconds", `must be a whole number of seconds from ${OPERATOR_RESYNC_RANGE.min} (the operator's floor) to ${OPERATOR_RESYNC_RANGE.max}; got '${resyncRaw}'`);
        }
        const workspaceImage = image("operatorWorkspaceImage");
        if ([namespace, backend, programRepo, credentialsSecret, resyncRaw, workspaceImage].includes(undefined)) return undefined;
        return { namespace: namespace!, backend: backend!, programRepo: programRepo!, credentialsSecret: credentialsSecret!, resyncSeconds, workspaceImage: workspaceImage! };
    }

    function image(key: string): string | undefined {
        const ref = required(key);
        if (ref === undefined) return undefined;
        const rule = imageProblem(ref);
        if (rule) fail(key, rule);
        return ref;
    }
}

function signingKeySlots(value: unknown, fail: (key: string, message: string) => void): SigningKeySlot[] {
    if (value === undefined || value === null || value === "") return [{ slot: "a", algorithm: "ES256" }];
    if (!Array.isArray(value) || value.length === 0 || value.length > 2) {
        fail("signingKeys", "must be a list of one key, or two while rotating: [{slot, algorithm, rsaBits?}]");
        return [];
    }
    const slots: SigningKeySlot[] = [];
    value.forEach((entry: unknown, i: number) => {
        const at = `signingKeys[${i}]`;
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            fail(at, "must be an object {slot, algorithm, rsaBits?}");
            return;
        }
        const { slot, algorithm, rsaBits, ...rest } = entry as Record<string, unknown>;
        for (const extra of Object.keys(rest)) fail(`${at}.${extra}`, "is not a known field (slot, algorithm, rsaBits)");
        if (typeof slot !== "string" || !SLOT.test(slot)) {
            fail(`${at}.slot`, "must be a short lowercase name such as 'a' or 'b' (letter first, at most 16 characters)");
        } else if (slots.some((s) => s.slot === slot)) {
            fail(`${at}.slot`, `'${slot}' is used twice; each key needs its own slot`);
        }
        const alg = algorithm ?? "ES256";
        const bad = typeof alg === "string" ? characterProblem(alg) : undefined;
        if (bad) {
            fail(`${at}.algorithm`, bad);
            return;
        }
        if (!isSigningAlgorithm(alg)) {
            fail(`${at}.algorithm`, `must be one of ${SIGNING_ALGORITHMS.join(", ")}; got '${String(alg)}'`);
            return;
        }
        const isRsa = SIGNING_KEYS[alg].type === "rsa";
        let bits: number | undefined;
        if (isRsa) {
            bits = rsaBits === undefined ? MIN_RSA_BITS : Number(rsaBits);
            const rule = rsaBitsProblem(bits);
            if (rule) {
                fail(`${at}.rsaBits`, `${rule}; got ${String(rsaBits)}`);
            }
        } else if (rsaBits !== undefined) {
            fail(`${at}.rsaBits`, `applies only to RS256 and PS256, not ${alg}`);
        }
        if (typeof slot === "string") slots.push({ slot, algorithm: alg, ...(bits ? { rsaBits: bits } : {}) });
    });
    return slots;
}

/** The known key closest to a misspelt one (edit distance at most 3), for "did you mean". */
function closestKey(key: string): string | undefined {
    let best: string | undefined;
    let bestDistance = 4;
    for (const known of Object.keys(CONFIG_KEYS)) {
        const d = editDistance(key.toLowerCase(), known.toLowerCase());
        if (d < bestDistance) {
            best = known;
            bestDistance = d;
        }
    }
    return best;
}

function editDistance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        prev = row;
    }
    return prev[b.length];
}
