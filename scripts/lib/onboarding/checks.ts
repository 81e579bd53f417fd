/** The post-deploy checks (scripts/lib/checks) as onboarding and fleet run them on a deployed stack. */
import { runChecks } from "../checks";
import type { RunChecks } from "./pipeline";

/** Runs every check on the stack's outputs; trusts the stack's own CA in self-signed TLS mode. */
export const postDeployChecks: RunChecks = (stack, outputs, options = {}) => {
    const ca = outputs.tlsCaCertificatePem;
    return runChecks({ stack, outputs, ...(typeof ca === "string" && ca ? { caPem: [ca] } : {}), ...(options.allowPrivateKeyKeeper ? { allowPrivateKeyKeeper: true } : {}) });
};
