import "server-only";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

/**
 * An environment with its application, once the actor is known to manage its fleet (servers, balancers, sites:
 * target.manage). Outside the actor's tenant it does not exist for them.
 */
export async function loadManagedEnvironment(actor: UserActor, environmentId: string) {
  const env = await db.environment.findUnique({ where: { id: environmentId }, include: { application: true } });
  // Outside the actor's tenant the environment does not exist for them; a member who may not manage servers is refused.
  if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");
  assertCan(actor, "target.manage", env.applicationId, { environmentId: env.id });
  return env;
}
