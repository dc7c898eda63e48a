import "server-only";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

/** A balancer with its environment and application, under the same rule. */
export async function loadManagedBalancer(actor: UserActor, balancerId: string) {
  const balancer = await db.balancer.findUnique({ where: { id: balancerId }, include: { environment: { include: { application: true } } } });
  if (!balancer || !can(actor, "application.view", balancer.environment.applicationId)) throw notFound("Balancer");
  assertCan(actor, "target.manage", balancer.environment.applicationId, { environmentId: balancer.environmentId });
  return balancer;
}
