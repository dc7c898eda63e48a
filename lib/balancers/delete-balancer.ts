import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { lockEnvironment } from "../deployments/request-deployment";
import { parseInput } from "../validation";
import { assertNoRolloutRunning } from "./assert-no-rollout";
import { describeBalancer } from "./balancer-input";
import { loadManagedBalancer } from "./load-managed-balancer";

export const ZDeleteBalancerRequestSchema = z.object({ balancerId: z.uuid("Choose a balancer.") });

/**
 * Removes a balancer and every server's membership of it: later rollouts no longer drain anything there. Not while
 * a rollout runs in its environment. The audit event lists the servers that were behind it.
 */
export async function deleteBalancer(actor: UserActor, raw: z.input<typeof ZDeleteBalancerRequestSchema>) {
  const input = parseInput(ZDeleteBalancerRequestSchema, raw);
  const found = await loadManagedBalancer(actor, input.balancerId);
  const { environment: env } = found;
  return db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    await assertNoRolloutRunning(tx, env.id, env.name);
    const members = await tx.balancerMembership.findMany({ where: { balancerId: found.id }, include: { target: { select: { name: true } } }, orderBy: { target: { name: "asc" } } });
    await tx.balancer.delete({ where: { id: found.id } });
    await recordAuditEvent(tx, actor, {
      type: "BALANCER_DELETED",
      object: { type: "Balancer", id: found.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `removed load balancer ${describeBalancer(found)} from ${env.application.name} / ${env.name}` + (members.length ? `; servers behind it: ${members.map((m) => m.target.name).join(", ")}` : ""),
      before: { name: found.name, kind: found.kind, address: found.address, drainCommand: found.drainCommand, undrainCommand: found.undrainCommand, members: members.map((m) => ({ server: m.target.name, backend: m.backend, name: m.server })) },
    });
    return { balancer: found, removedMembers: members.length };
  });
}
