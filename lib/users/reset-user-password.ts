import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { generatePassword, hashPassword } from "../auth/password";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

export const ZResetUserPasswordRequestSchema = z.object({ userId: z.uuid() });
export type TResetUserPasswordRequest = z.infer<typeof ZResetUserPasswordRequestSchema>;

/** Replaces a user's password with a one-time password (returned once) and signs them out everywhere. */
export async function resetUserPassword(actor: UserActor, input: TResetUserPasswordRequest) {
  assertCan(actor, "user.reset-password");
  const oneTimePassword = generatePassword();
  const passwordHash = await hashPassword(oneTimePassword);
  const user = await db.$transaction(async (tx) => {
    const existing = await tx.user.findUnique({ where: { id: input.userId } });
    if (!existing) throw notFound("User");
    const updated = await tx.user.update({
      where: { id: existing.id },
      data: { passwordHash, mustChangePassword: true, sessionVersion: { increment: 1 } },
    });
    await tx.authSession.updateMany({ where: { userId: existing.id, revokedAt: null }, data: { revokedAt: new Date() } });
    await recordAuditEvent(tx, actor, {
      type: "USER_PASSWORD_RESET",
      object: { type: "User", id: existing.id },
      scope: { customerId: existing.customerId },
      summary: `reset the password of ${existing.email}`,
    });
    return updated;
  });
  return { user, oneTimePassword };
}
