import "server-only";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { liveReleaseOf } from "../deployments/live-release";
import { notFound } from "../errors";
import { SERVER_LIST_FIELDS } from "../targets/server-list-fields";

/**
 * One application with its environments and members, if the actor may view it. Outside the actor's tenant the
 * answer is NOT_FOUND, the same as for an id that does not exist, so ids cannot be probed.
 */
export async function getApplication(actor: UserActor, applicationId: string) {
  if (!can(actor, "application.view", applicationId)) throw notFound("Application");
  const app = await db.application.findUnique({
    where: { id: applicationId },
    include: {
      customer: { select: { id: true, name: true } },
      environments: {
        orderBy: { position: "asc" },
        include: {
          _count: { select: { targets: true } },
          targets: {
            orderBy: { name: "asc" },
            select: SERVER_LIST_FIELDS,
          },
        },
      },
      memberships: {
        orderBy: [{ role: "asc" }, { user: { name: "asc" } }],
        include: { user: { select: { id: true, name: true, email: true, status: true } } },
      },
    },
  });
  if (!app) throw notFound("Application");
  // The release each environment should run (its last successful deployment's), for drift. One indexed row per
  // environment: a nested `take: 1` would make Prisma read every successful deployment and keep the first in memory.
  const expected = await Promise.all(app.environments.map((e) => liveReleaseOf(db, e.id)));
  return { ...app, environments: app.environments.map((e, i) => ({ ...e, expectedReleaseId: expected[i]?.releaseId ?? null })) };
}
