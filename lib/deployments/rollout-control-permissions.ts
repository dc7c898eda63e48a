// Who may stop a rollout and who may continue one that paused after its first site. Pure and free of the engine's
// imports, so the notifier (which the engine calls) can ask it too.
import { PERMISSIONS, type Permission } from "../auth/permissions";
import { ROLE_LABELS } from "../auth/role-labels";

/** Stopping a production rollout is ops' call (it rolls servers back), like a revert; elsewhere deployers may stop. */
export const cancelPermissionFor = (environment: { isProduction: boolean }): Permission =>
  environment.isProduction ? "deployment.revert" : "deployment.cancel";

/**
 * Whoever may stop a rollout may continue it past its pause: ops in production, where continuing puts the release
 * in front of every remaining site, and whoever may deploy elsewhere.
 */
export const continuePermissionFor = cancelPermissionFor;

/** "Ops", "Developers and ops": who may continue a paused rollout in this environment, for pages and messages. */
export function whoMayContinue(environment: { isProduction: boolean }): string {
  const people = PERMISSIONS[continuePermissionFor(environment)].roles.map((r) => (r === "OPS" ? "ops" : `${(ROLE_LABELS[r] ?? r).toLowerCase()}s`));
  const text = people.join(" and ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
