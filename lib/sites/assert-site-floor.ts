import "server-only";
import type { Tx } from "../db/client";
import { AppError } from "../errors";
import { siteFloorBlocker } from "../rollouts/planner";

/**
 * Refuses a deployment or revert that could not update some site without breaking the environment's floor of
 * serving servers per site (a site with no more enrolled servers than the floor), with the planner's own words,
 * before anything is recorded. The planner applies the same rule when a rollout starts (a scheduled one, whose
 * sites may have changed since) and ends it FAILED without touching a server.
 */
export async function assertSiteFloorHolds(tx: Tx, env: { id: string; name: string; siteFloor: number }): Promise<void> {
  if (env.siteFloor <= 0) return;
  // One query at a time: a transaction is one connection.
  const sites = await tx.site.findMany({ where: { environmentId: env.id }, select: { id: true, name: true, position: true } });
  const targets = await tx.target.findMany({ where: { environmentId: env.id, status: "ACTIVE" }, select: { id: true, siteId: true } });
  const blocker = siteFloorBlocker(sites, targets, env.siteFloor);
  if (blocker) throw new AppError("PRECONDITION_FAILED", `${env.name} cannot be rolled out: ${blocker}`);
}
