import "server-only";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";

/**
 * The applications the actor can see: all for platform admins, otherwise exactly those they hold a role on.
 * INVARIANT: the membership filter is the tenant boundary; never widen it for non-admins.
 */
export async function listApplicationsForActor(actor: UserActor) {
  return db.application.findMany({
    where: actor.isPlatformAdmin ? {} : { memberships: { some: { userId: actor.id } } },
    orderBy: [{ customer: { name: "asc" } }, { name: "asc" }],
    include: {
      customer: { select: { id: true, name: true } },
      environments: { orderBy: { position: "asc" }, select: { id: true, name: true, isProduction: true } },
    },
  });
}
