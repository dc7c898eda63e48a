import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { lockEnvironment } from "../deployments/request-deployment";
import { conflict, invalid, isUniqueViolation, notFound } from "../errors";
import { emptyAsUndefined, parseInput } from "../validation";
import { assertNoRolloutRunning } from "./assert-no-rollout";
import { ZHaproxyName } from "./balancer-input";
import { loadManagedBalancer } from "./load-managed-balancer";

export const ZAddBalancerMemberRequestSchema = z.object({
  balancerId: z.uuid("Choose a balancer."),
  targetId: z.uuid("Choose a server."),
  backend: z.preprocess(emptyAsUndefined, z.string().optional()),
  server: z.preprocess(emptyAsUndefined, z.string().optional()),
});
export type TAddBalancerMemberRequest = z.input<typeof ZAddBalancerMemberRequestSchema>;

// HAProxy needs the backend and the server's name there; commands get them (RELEASEGATE_LB_BACKEND/SERVER) if given,
// the server's own name otherwise.
const ZHaproxyMember = z.object({ backend: ZHaproxyName("backend"), server: ZHaproxyName("server") });
const ZHookMember = z.object({ backend: ZHaproxyName("backend").optional(), server: ZHaproxyName("server").optional() });

/**
 * Puts a server behind a balancer of its environment: from the next rollout on, the server is taken out of it and
 * put back like out of every other balancer it belongs to. Not while a rollout runs there.
 */
export async function addBalancerMember(actor: UserActor, raw: TAddBalancerMemberRequest) {
  const input = parseInput(ZAddBalancerMemberRequestSchema, raw);
  const balancer = await loadManagedBalancer(actor, input.balancerId);
  const { environment: env } = balancer;
  // A server of another environment is not one this balancer can have (and may be another tenant's).
  const target = await db.target.findFirst({ where: { id: input.targetId, environmentId: env.id } });
  if (!target) throw notFound("Server");
  const names = balancer.kind === "HAPROXY" ? parseInput(ZHaproxyMember, input) : parseInput(ZHookMember, input);
  const backend = names.backend ?? "";
  const server = names.server ?? target.name;
  try {
    return await db.$transaction(async (tx) => {
      await lockEnvironment(tx, env.id);
      await assertNoRolloutRunning(tx, env.id, env.name);
      if (target.status === "REVOKED") throw invalid(`${target.name}'s agent was revoked: it takes part in no rollout.`);
      const membership = await tx.balancerMembership.create({ data: { balancerId: balancer.id, targetId: target.id, backend, server } });
      const where = balancer.kind === "HAPROXY" ? ` as ${backend}/${server}` : "";
      await recordAuditEvent(tx, actor, {
        type: "BALANCER_MEMBER_ADDED",
        object: { type: "Target", id: target.id },
        scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
        summary: `put ${target.name} (${env.application.name} / ${env.name}) behind load balancer ${balancer.name}${where}`,
        after: { balancer: balancer.name, backend, server },
      });
      return { membership, balancer, target };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`${target.name} is already behind ${balancer.name}${backend ? ` in backend ${backend}` : ""}.`);
    throw e;
  }
}
