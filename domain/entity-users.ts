/** The two DCM entity users the bank's key keeper holds secrets for (plan steps 7 and 10). */
export const ENTITY_USERS = ["identification", "processing"] as const;
export type EntityUser = (typeof ENTITY_USERS)[number];
