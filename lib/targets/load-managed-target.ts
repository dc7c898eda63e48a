import "server-only";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

/** A server with its environment and application, once the actor is known to be allowed to manage it. */
export async function loadManagedTarget(actor: UserActor, targetId: string) {
  const target = await db.target.findUnique({ where: { id: targetId }, include: { environment: { include: { application: true } } } });
  if (!target || !can(actor, "application.view", target.environment.applicationId)) throw notFound("Server");
  assertCan(actor, "target.manage", target.environment.applicationId);
  return target;
}
