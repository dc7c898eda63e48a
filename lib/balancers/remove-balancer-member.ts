import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { lockEnvironment } from "../deployments/request-deployment";
import { notFound } from "../errors";
import { parseInput } from "../validation";
import { assertNoRolloutRunning } from "./assert-no-rollout";
import { loadManagedBalancer } from "./load-managed-balancer";

export const ZRemoveBalancerMemberRequestSchema = z.object({ membershipId: z.uuid("Choose a membership.") });

/** Takes a server's membership of a balancer away: later rollouts no longer drain it there. */
export async function removeBalancerMember(actor: UserActor, raw: z.input<typeof ZRemoveBalancerMemberRequestSchema>) {
  const input = parseInput(ZRemoveBalancerMemberRequestSchema, raw);
  const found = await db.balancerMembership.findUnique({ where: { id: input.membershipId }, include: { balancer: { include: { environment: true } }, target: true } });
  if (!found || !can(actor, "application.view", found.balancer.environment.applicationId)) throw notFound("Membership");
  const balancer = await loadManagedBalancer(actor, found.balancerId);
  const { environment: env } = balancer;
  return db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    await assertNoRolloutRunning(tx, env.id, env.name);
    const { count } = await tx.balancerMembership.deleteMany({ where: { id: found.id } });
    if (count === 0) throw notFound("Membership");
    await recordAuditEvent(tx, actor, {
      type: "BALANCER_MEMBER_REMOVED",
      object: { type: "Target", id: found.targetId },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `took ${found.target.name} (${env.application.name} / ${env.name}) off load balancer ${balancer.name}`,
      before: { balancer: balancer.name, backend: found.backend, server: found.server },
    });
    return { target: found.target, balancer };
  });
}
