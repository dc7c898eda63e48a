import "server-only";
import { z } from "zod";
import { ENROLLMENT_TOKEN_TTL_MS, hashCredential, newEnrollmentToken } from "../agents/credentials";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, isUniqueViolation, notFound } from "../errors";

export const ZAddTargetRequestSchema = z.object({
  environmentId: z.uuid(),
  name: z
    .string()
    .trim()
    .min(1, "Enter the server's name.")
    .max(63, "Use at most 63 characters.")
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Use letters, digits, dots, dashes and underscores, like web-1."),
});
export type TAddTargetRequest = z.infer<typeof ZAddTargetRequestSchema>;

/**
 * Adds a server to an environment and returns a one-time enrollment token (valid one hour, single use) for the
 * agent installed on it. Only the token's hash is stored.
 */
export async function addTarget(actor: UserActor, input: TAddTargetRequest) {
  const env = await db.environment.findUnique({ where: { id: input.environmentId }, include: { application: true } });
  if (!env || !can(actor, "application.view", env.applicationId)) throw notFound("Environment");
  assertCan(actor, "target.manage", env.applicationId);
  const enrollmentToken = newEnrollmentToken();
  const expiresAt = new Date(Date.now() + ENROLLMENT_TOKEN_TTL_MS);
  try {
    const target = await db.$transaction(async (tx) => {
      const t = await tx.target.create({
        data: { environmentId: env.id, name: input.name, enrollmentTokenHash: hashCredential(enrollmentToken), enrollmentExpiresAt: expiresAt },
      });
      await recordAuditEvent(tx, actor, {
        type: "TARGET_ADDED",
        object: { type: "Target", id: t.id },
        scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
        summary: `added server ${t.name} to ${env.application.name} / ${env.name}`,
        after: { name: t.name, enrollmentExpiresAt: expiresAt.toISOString() },
      });
      return t;
    });
    return { target, enrollmentToken, expiresAt };
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`${env.name} already has a server named ${input.name}.`);
    throw e;
  }
}
