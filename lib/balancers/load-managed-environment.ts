import "server-only";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

/** An environment with its application, once the actor is known to be allowed to manage its servers and balancers. */
export async function loadManagedEnvironment(actor: UserActor, environmentId: string) {
  const env = await db.environment.findUnique({ where: { id: environmentId }, include: { application: true } });
  // Outside the actor's tenant the environment does not exist for them; a member who may not manage servers is refused.
  if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");
  assertCan(actor, "target.manage", env.applicationId, { environmentId: env.id });
  return env;
}

/** A balancer with its environment and application, under the same rule. */
export async function loadManagedBalancer(actor: UserActor, balancerId: string) {
  const balancer = await db.balancer.findUnique({ where: { id: balancerId }, include: { environment: { include: { application: true } } } });
  if (!balancer || !can(actor, "application.view", balancer.environment.applicationId)) throw notFound("Balancer");
  assertCan(actor, "target.manage", balancer.environment.applicationId, { environmentId: balancer.environmentId });
  return balancer;
}
