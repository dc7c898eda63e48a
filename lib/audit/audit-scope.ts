import "server-only";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { forbidden } from "../errors";
import type { TAuditFilter } from "./audit-filter";

export interface AuditScope {
  /** null = all applications and platform-wide events (platform admins only). */
  applicationIds: string[] | null;
  /** Release ids matching the filter's version search, or null when the filter has none. */
  releaseIds: string[] | null;
}

/**
 * What part of the audit record the actor may read: everything for platform admins, otherwise the events of the
 * applications where they are an auditor. Anyone else is refused.
 */
export async function resolveAuditScope(actor: UserActor, filter: TAuditFilter): Promise<AuditScope> {
  let applicationIds: string[] | null;
  if (actor.isPlatformAdmin) applicationIds = null;
  else {
    applicationIds = [...actor.roles.keys()].filter((id) => can(actor, "audit.view", id));
    if (applicationIds.length === 0) throw forbidden("Only auditors can read the audit record.");
  }
  let releaseIds: string[] | null = null;
  if (filter.release) {
    const v = filter.release;
    const releases = await db.release.findMany({
      where: {
        ...(applicationIds ? { applicationId: { in: applicationIds } } : {}),
        version: v.endsWith("*") ? { startsWith: v.slice(0, -1) } : v,
      },
      select: { id: true },
      take: 1000,
    });
    releaseIds = releases.map((r) => r.id);
  }
  return { applicationIds, releaseIds };
}
