import "server-only";
import { z } from "zod";
import { ENROLLMENT_TOKEN_TTL_MS, hashCredential, newEnrollmentToken } from "../agents/credentials";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { loadManagedTarget } from "./load-managed-target";

export const ZReissueEnrollmentRequestSchema = z.object({ targetId: z.uuid() });
export type TReissueEnrollmentRequest = z.infer<typeof ZReissueEnrollmentRequestSchema>;

/**
 * Rotates a server's agent credential: the current secret stops working at once and a new one-time enrollment
 * token is returned; running `releasegate-agent enroll` with it gives the agent a fresh secret. Also how a revoked
 * server is brought back.
 */
export async function reissueEnrollment(actor: UserActor, input: TReissueEnrollmentRequest) {
  const target = await loadManagedTarget(actor, input.targetId);
  const enrollmentToken = newEnrollmentToken();
  const expiresAt = new Date(Date.now() + ENROLLMENT_TOKEN_TTL_MS);
  await db.$transaction(async (tx) => {
    await tx.target.update({
      where: { id: target.id },
      data: { status: "PENDING", agentSecretHash: null, agentSecretPrefix: null, enrollmentTokenHash: hashCredential(enrollmentToken), enrollmentExpiresAt: expiresAt },
    });
    const app = target.environment.application;
    await recordAuditEvent(tx, actor, {
      type: "AGENT_ENROLLMENT_REISSUED",
      object: { type: "Target", id: target.id },
      scope: { customerId: app.customerId, applicationId: app.id, environmentId: target.environmentId },
      summary: `rotated the agent credential of ${target.name} (${app.name} / ${target.environment.name})`,
      before: { status: target.status },
      after: { status: "PENDING", enrollmentExpiresAt: expiresAt.toISOString() },
    });
  });
  return { target, enrollmentToken, expiresAt };
}
