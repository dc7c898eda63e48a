import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { advanceRollout } from "../rollouts/advance-rollout";
import { loadManagedTarget } from "./load-managed-target";
import { conflict } from "../errors";

export const ZRevokeAgentRequestSchema = z.object({ targetId: z.uuid() });
export type TRevokeAgentRequest = z.infer<typeof ZRevokeAgentRequestSchema>;

/**
 * Revokes a server's agent: its secret and any unused enrollment token are refused from the next call on. A rollout
 * under way in its environment learns it at once (lib/rollouts/planner.ts): the server leaves the rollout.
 */
export async function revokeAgent(actor: UserActor, input: TRevokeAgentRequest) {
  const target = await loadManagedTarget(actor, input.targetId);
  await db.$transaction(async (tx) => {
    const changed = await tx.target.updateMany({
      where: { id: target.id, status: { not: "REVOKED" } },
      data: { status: "REVOKED", agentSecretHash: null, agentSecretPrefix: null, enrollmentTokenHash: null, enrollmentExpiresAt: null },
    });
    if (changed.count === 0) throw conflict(`The agent of ${target.name} is already revoked.`);
    const app = target.environment.application;
    await recordAuditEvent(tx, actor, {
      type: "AGENT_REVOKED",
      object: { type: "Target", id: target.id },
      scope: { customerId: app.customerId, applicationId: app.id, environmentId: target.environmentId },
      summary: `revoked the agent of ${target.name} (${app.name} / ${target.environment.name})`,
      before: { status: target.status },
      after: { status: "REVOKED" },
    });
  });
  const active = await db.deployment.findMany({ where: { environmentId: target.environmentId, status: { in: ["RUNNING", "ROLLING_BACK"] } }, select: { id: true } });
  for (const d of active) await advanceRollout(d.id);
}
