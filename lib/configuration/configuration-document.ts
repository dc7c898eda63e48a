import "server-only";
import { z } from "zod";
import { ZBalancerSettings, ZHaproxyName } from "../balancers/balancer-input";
import { ZEnvironmentName } from "../environments/create-environment";
import { ZUpdateRolloutSettingsRequestSchema } from "../environments/update-rollout-settings";
import { ZSiteName } from "../sites/load-managed-site";
import { ZUpdateSiteSettingsRequestSchema } from "../sites/update-site-settings";
import { ZAddTargetRequestSchema } from "../targets/add-target";

// An application's configuration as one versionable file: every environment's policy, rollout settings and hooks,
// its load balancers, its servers and which balancers each sits behind. GET gives exactly what PUT takes, so a team
// keeps it in git and applies it (with a dry run first) instead of clicking.

export const CONFIGURATION_FORMAT = "releasegate.application/v1";

const ZRole = z.enum(["DEVELOPER", "CUSTOMER", "APPROVER", "OPS", "AUDITOR"]);

/** What only a platform administrator may change (the environments' gates). */
export const ZPolicy = z.strictObject({
  url: z.url("Enter a full URL such as https://acc.example.com").nullable(),
  isProduction: z.boolean(),
  requiresPreviousSuccess: z.boolean(),
  requiresAcceptance: z.boolean(),
  requiredApprovals: z.number().int("Enter a whole number.").min(0).max(10, "At most 10 approvals."),
  approverRoles: z.array(ZRole),
  deployerRoles: z.array(ZRole).min(1, "Choose at least one role that may deploy."),
});
export type TPolicy = z.infer<typeof ZPolicy>;
export const POLICY_FIELDS = Object.keys(ZPolicy.shape) as (keyof TPolicy)[];

/** What ops set: the rollout settings form, field for field. */
export const ZRollout = ZUpdateRolloutSettingsRequestSchema.omit({ environmentId: true }).strict();
export type TRollout = z.infer<typeof ZRollout>;

const ZMembership = z.strictObject({
  balancer: z.string().trim().min(1, "Name the balancer, as in this environment's balancers."),
  backend: ZHaproxyName("backend").optional(),
  server: ZHaproxyName("server").optional(),
});

/** How rollouts cross the environment's sites (the Sites card's settings). */
export const ZSiteRollout = ZUpdateSiteSettingsRequestSchema.omit({ environmentId: true }).strict();
export type TSiteRollout = z.infer<typeof ZSiteRollout>;

const ZServer = z.strictObject({
  name: ZAddTargetRequestSchema.shape.name,
  /** The site (data centre) it is in; absent: none. */
  site: ZSiteName.optional(),
  behind: z.array(ZMembership).max(16).default([]),
});

const ZEnvironmentConfig = z.strictObject({
  name: ZEnvironmentName,
  policy: ZPolicy,
  rollout: ZRollout,
  /** The environment's sites, in the order rollouts walk them when the order is ops' own. */
  sites: z.array(ZSiteName).max(32).default([]),
  siteRollout: ZSiteRollout,
  balancers: z.array(ZBalancerSettings).max(32).default([]),
  servers: z.array(ZServer).max(500).default([]),
});

export const ZConfigurationDocument = z.strictObject({
  format: z.literal(CONFIGURATION_FORMAT, `Start the file with "format": "${CONFIGURATION_FORMAT}".`),
  /** Informational: which application the file was read from. PUT applies it to the application in the URL. */
  application: z.strictObject({ name: z.string(), slug: z.string() }).optional(),
  environments: z.array(ZEnvironmentConfig).min(1, "List the environments.").max(50),
});
export type TConfigurationDocument = z.infer<typeof ZConfigurationDocument>;
export type TConfigurationInput = z.input<typeof ZConfigurationDocument>;
export type TEnvironmentConfig = TConfigurationDocument["environments"][number];
