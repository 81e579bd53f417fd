/**
 * The pack's policies, in one list: index.ts serves them to the Pulumi CLI, evaluate.ts runs the same
 * objects offline. (Constructing a PolicyPack starts the analyzer server, so this file must not.)
 */
import type { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { availabilityFrontendPdb } from "./availability-frontend-pdb";
import { availabilityFrontendReplicas } from "./availability-frontend-replicas";
import { availabilityKratosPdb } from "./availability-kratos-pdb";
import { containersPinnedImages } from "./containers-pinned-images";
import { containersRealDigests } from "./containers-real-digests";
import { containersResources } from "./containers-resources";
import { dcmApiUpstream } from "./dcm-api-upstream";
import { gatewayHostNames } from "./gateway-host-names";
import { gatewayNoKratosAdmin } from "./gateway-no-kratos-admin";
import { gatewayTls } from "./gateway-tls";
import { ingressHostNames } from "./ingress-host-names";
import { ingressNoKratosAdmin } from "./ingress-no-kratos-admin";
import { ingressNoKratosAdminService } from "./ingress-no-kratos-admin-service";
import { ingressTls } from "./ingress-tls";
import { keysPasswordLength } from "./keys-password-length";
import { keysProtected } from "./keys-protected";
import { keysProtectedSources } from "./keys-protected-sources";
import { keysSignerSecretAccess } from "./keys-signer-secret-access";
import { keysSigningKeyStrength } from "./keys-signing-key-strength";
import { namespaceDefaultDeny } from "./namespace-default-deny";
import { namespaceLabels } from "./namespace-labels";
import { networkKratosAdminClient } from "./network-kratos-admin-client";
import { networkRulesBounded } from "./network-rules-bounded";
import { objectsApiServerRules } from "./objects-api-server-rules";
import { outputsSecrets } from "./outputs-secrets";
import { podsRestricted } from "./pods-restricted";
import { secretsAnnotations } from "./secrets-annotations";
import { secretsConfigMaps } from "./secrets-configmaps";
import { secretsEnvLiterals } from "./secrets-env-literals";
import { workloadsProbes } from "./workloads-probes";
import { workloadsServiceAccountToken } from "./workloads-service-account-token";

export const PACK_NAME = "dcm-bank-integration";
/** Level of a policy that states none (each of ours states one). */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    ingressTls,
    ingressHostNames,
    ingressNoKratosAdmin,
    ingressNoKratosAdminService,
    gatewayTls,
    gatewayHostNames,
    gatewayNoKratosAdmin,
    dcmApiUpstream,
    podsRestricted,
    containersResources,
    containersPinnedImages,
    containersRealDigests,
    secretsConfigMaps,
    secretsAnnotations,
    secretsEnvLiterals,
    keysSigningKeyStrength,
    keysPasswordLength,
    keysProtected,
    keysProtectedSources,
    keysSignerSecretAccess,
    namespaceLabels,
    namespaceDefaultDeny,
    networkRulesBounded,
    networkKratosAdminClient,
    outputsSecrets,
    availabilityFrontendReplicas,
    availabilityFrontendPdb,
    availabilityKratosPdb,
    workloadsProbes,
    workloadsServiceAccountToken,
    objectsApiServerRules,
];
