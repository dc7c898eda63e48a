import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { lockEnvironment } from "../deployments/request-deployment";
import { conflict, isUniqueViolation } from "../errors";
import { parseInput } from "../validation";
import { balancerColumns, describeBalancer, ZBalancerSettings } from "./balancer-input";
import { loadManagedEnvironment } from "../environments/load-managed-environment";

export const ZCreateBalancerRequestSchema = z.intersection(z.object({ environmentId: z.uuid("Choose an environment.") }), ZBalancerSettings);
export type TCreateBalancerRequest = z.input<typeof ZCreateBalancerRequestSchema>;

/**
 * Defines a load balancer of an environment once, so its servers can be put behind it (addBalancerMember). A new
 * balancer has no servers: it changes no rollout until one is added.
 */
export async function createBalancer(actor: UserActor, raw: TCreateBalancerRequest) {
  const input = parseInput(ZCreateBalancerRequestSchema, raw);
  const env = await loadManagedEnvironment(actor, input.environmentId);
  const columns = balancerColumns(input);
  try {
    return await db.$transaction(async (tx) => {
      await lockEnvironment(tx, env.id);
      const balancer = await tx.balancer.create({ data: { environmentId: env.id, ...columns } });
      await recordAuditEvent(tx, actor, {
        type: "BALANCER_CREATED",
        object: { type: "Balancer", id: balancer.id },
        scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
        summary: `added load balancer ${describeBalancer(balancer)} to ${env.application.name} / ${env.name}`,
        after: columns,
      });
      return balancer;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`${env.name} already has a balancer named ${input.name}.`);
    throw e;
  }
}
