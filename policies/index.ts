/**
 * The DCM bank-integration policy pack: `pulumi preview --policy-pack policies` loads this file and serves
 * the policies to the engine. The same policy objects run offline through evaluate.ts (`npm run policy`).
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies } from "./pack";

new PolicyPack(PACK_NAME, {
    description: "Rules every bank's stack must keep: TLS and host names, no Kratos admin exposure, restricted pods, pinned and bounded containers, no secret material in the clear, strong protected keys, isolated labelled namespaces, secret outputs.",
    enforcementLevel: PACK_ENFORCEMENT_LEVEL,
    policies,
});
