import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db, type Tx } from "../db/client";
import { conflict, notFound } from "../errors";
import { findRunningRollout } from "../deployments/find-running-rollout";
import { ZText } from "../validation";

/** A site's name as people write data centres: "fra-1", "Frankfurt 2", "ams.eq3". */
export const ZSiteName = ZText({ missing: "Enter the site's name." })
  .trim()
  .min(1, "Enter the site's name, like fra-1.")
  .max(63, "Use at most 63 characters.")
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, "Use letters, digits, spaces, dots, dashes and underscores, starting with a letter or digit, like fra-1.");

/** A site with its environment and application, once the actor is known to manage them. */
export async function loadManagedSite(actor: UserActor, siteId: string) {
  const site = await db.site.findUnique({ where: { id: siteId }, include: { environment: { include: { application: true } } } });
  if (!site || !can(actor, "application.view", site.environment.applicationId)) throw notFound("Site");
  assertCan(actor, "target.manage", site.environment.applicationId, { environmentId: site.environmentId });
  return site;
}

/**
 * Servers do not change sites while a rollout runs in their environment: its floor and its order count the servers
 * of each site as they were when it started, and a server moved out of a site mid-rollout could take that site
 * below its floor.
 */
export async function assertNoRolloutRunning(tx: Tx, environmentId: string, environmentName: string): Promise<void> {
  if (await findRunningRollout(tx, environmentId)) throw conflict(`A rollout is running in ${environmentName}: servers cannot change sites until it has finished (its floor counts the servers of each site).`);
}

export const ZSiteId = z.uuid("Choose a site.");
