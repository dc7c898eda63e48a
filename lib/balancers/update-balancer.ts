import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { lockEnvironment } from "../deployments/request-deployment";
import { conflict, isUniqueViolation } from "../errors";
import { parseInput } from "../validation";
import { assertNoRolloutRunning } from "./assert-no-rollout";
import { balancerColumns, describeBalancer, ZBalancerSettings } from "./balancer-input";
import { loadManagedBalancer } from "./load-managed-balancer";

export const ZUpdateBalancerRequestSchema = z.intersection(z.object({ balancerId: z.uuid("Choose a balancer.") }), ZBalancerSettings);
export type TUpdateBalancerRequest = z.input<typeof ZUpdateBalancerRequestSchema>;

/**
 * Renames a balancer or changes how it is reached. Not while a rollout runs in its environment (its servers may be
 * out of it). Returns the fields that changed; saving the same settings again records nothing.
 */
export async function updateBalancer(actor: UserActor, raw: TUpdateBalancerRequest) {
  const input = parseInput(ZUpdateBalancerRequestSchema, raw);
  const found = await loadManagedBalancer(actor, input.balancerId);
  const { environment: env } = found;
  const next = balancerColumns(input);
  try {
    return await db.$transaction(async (tx) => {
      await lockEnvironment(tx, env.id);
      const current = await tx.balancer.findUniqueOrThrow({ where: { id: found.id } });
      const keys = Object.keys(next) as (keyof typeof next)[];
      const changed = keys.filter((k) => current[k] !== next[k]);
      if (changed.length === 0) return { balancer: current, changed };
      await assertNoRolloutRunning(tx, env.id, env.name);
      const balancer = await tx.balancer.update({ where: { id: found.id }, data: next });
      await recordAuditEvent(tx, actor, {
        type: "BALANCER_UPDATED",
        object: { type: "Balancer", id: found.id },
        scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
        summary: `changed load balancer ${current.name} of ${env.application.name} / ${env.name}: now ${describeBalancer(balancer)}`,
        before: Object.fromEntries(changed.map((k) => [k, current[k]])),
        after: Object.fromEntries(changed.map((k) => [k, next[k]])),
      });
      return { balancer, changed };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`${env.name} already has a balancer named ${input.name}.`);
    throw e;
  }
}
