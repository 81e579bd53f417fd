/** Mandatory: the key-keeper passwords guard the bank's entity users; below 32 characters they fall short of DCM's credential standard. */
import type { ResourceValidationPolicy } from "@pulumi/policy";

export const MIN_PASSWORD_LENGTH = 32;

export const keysPasswordLength: ResourceValidationPolicy = {
    name: "keys-password-length",
    description: "Every random.RandomPassword is at least 32 characters long.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "random:index/randomPassword:RandomPassword") return;
        const length = Number(args.props.length);
        if (!(length >= MIN_PASSWORD_LENGTH)) reportViolation(`RandomPassword length is ${String(args.props.length)}: it must be at least ${MIN_PASSWORD_LENGTH}.`);
    },
};
