// The role x action matrix: the one table that says who may do what. Pure, so it is unit-tested exhaustively
// (permissions.test.ts); domain functions call `assertCan` after loading the object they act on.
// Deny by default: an action absent from the table is refused for everyone but nobody, and the type system
// makes every caller name an action that exists.
import type { Role } from "../db/generated/enums";
import { AppError, type DenialScope } from "../errors";
import type { ApiTokenActor, UserActor } from "./actor";

interface Rule {
  /** Roles on the application that grant the action. */
  roles: readonly Role[];
  /** Whether platform administrators may do it. */
  admin: boolean;
}

const ALL_ROLES: readonly Role[] = ["DEVELOPER", "CUSTOMER", "APPROVER", "OPS", "AUDITOR"];

export const PERMISSIONS = {
  // platform administration: admins only
  "customer.create": { roles: [], admin: true },
  "customer.update": { roles: [], admin: true },
  "user.create": { roles: [], admin: true },
  "user.update": { roles: [], admin: true },
  "user.disable": { roles: [], admin: true },
  "user.reset-password": { roles: [], admin: true },
  "application.create": { roles: [], admin: true },
  "application.update": { roles: [], admin: true },
  "membership.grant": { roles: [], admin: true },
  "membership.revoke": { roles: [], admin: true },
  "environment.manage": { roles: [], admin: true },
  // servers and their agents: ops run the fleet
  "target.manage": { roles: ["OPS"], admin: true },
  // releases and deployments. Environment policy narrows these further (lib/deployments: deployerRoles; only ops
  // deploy to production); administrators run the platform, not the release procedure.
  "release.create": { roles: ["DEVELOPER"], admin: false },
  "deployment.request": { roles: ["DEVELOPER", "OPS"], admin: false },
  "deployment.cancel": { roles: ["DEVELOPER", "OPS"], admin: false },
  "deployment.revert": { roles: ["OPS"], admin: false },
  // the release procedure's judgements. A verdict is the customer's; an approval needs, on top of this, one of the
  // environment's approverRoles (lib/approvals/approve-release.ts). Neither is ever the uploader's, whatever their
  // roles (separation of duties, checked in the domain functions), nor an administrator's by the admin flag.
  "release.verdict": { roles: ["CUSTOMER"], admin: false },
  "release.approve": { roles: ["APPROVER", "OPS"], admin: false },
  // change freezes on environments: ops plan and lift them
  "freeze.manage": { roles: ["OPS"], admin: false },
  // outgoing webhooks carry release events to other systems: ops and administrators wire them up
  "webhook.manage": { roles: ["OPS"], admin: true },
  // API tokens for build pipelines: a token carries at most its creator's roles
  "api-token.manage": { roles: ["DEVELOPER", "OPS"], admin: true },
  // reading an application: anyone with a role on it
  "application.view": { roles: ALL_ROLES, admin: true },
  "audit.view": { roles: ["AUDITOR"], admin: true },
} as const satisfies Record<string, Rule>;

export type Permission = keyof typeof PERMISSIONS;

/**
 * Whether the actor may perform `permission`, on the application `applicationId` when the action is about one.
 * Platform-wide actions (no application) are granted only through the admin flag.
 */
export function can(actor: Pick<UserActor, "isPlatformAdmin" | "roles">, permission: Permission, applicationId?: string): boolean {
  const rule: Rule = PERMISSIONS[permission];
  if (rule.admin && actor.isPlatformAdmin) return true;
  if (applicationId === undefined) return false;
  const roles = actor.roles.get(applicationId);
  return roles !== undefined && rule.roles.some((r) => roles.has(r));
}

/**
 * Throws FORBIDDEN unless the actor may. Call it once the actor is known to see the application
 * (`can(actor, "application.view", id)`, else NOT_FOUND as for an unknown id): another tenant's objects must not
 * answer "not allowed", which would confirm they exist and file the refusal in that tenant's record. The refusal carries the application and whatever else the caller names
 * (`about`: the environment, the release), so its audit event lands in their record.
 */
export function assertCan(
  actor: UserActor | ApiTokenActor,
  permission: Permission,
  applicationId?: string,
  about: Omit<DenialScope, "applicationId"> = {},
): void {
  if (!can(actor, permission, applicationId)) {
    throw new AppError("FORBIDDEN", "You are not allowed to do that.", { cause: { permission, applicationId }, scope: { applicationId, ...about } });
  }
}

/**
 * The applications whose audit record the actor may read: null means all of them, platform-wide events included
 * (platform admins); an empty list means none.
 */
export function auditableApplicationIds(actor: Pick<UserActor, "isPlatformAdmin" | "roles">): string[] | null {
  if (actor.isPlatformAdmin) return null;
  return [...actor.roles.keys()].filter((id) => can(actor, "audit.view", id));
}
