import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { hashPassword, verifyPassword } from "../auth/password";
import { ZPassword } from "../auth/password-policy";
import { db } from "../db/client";
import { AppError, notFound } from "../errors";
import { forgetInitialAdminCredentials } from "./announce-first-admin";
import { FIRST_ADMIN_EMAIL } from "./bootstrap-first-admin";

export const ZChangeOwnPasswordRequestSchema = z
  .object({
    currentPassword: z.string().min(1, "Enter your current password."),
    newPassword: ZPassword,
    confirmPassword: z.string(),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { path: ["confirmPassword"], message: "The two passwords differ." })
  .refine((v) => v.newPassword !== v.currentPassword, { path: ["newPassword"], message: "Choose a new password." });
export type TChangeOwnPasswordRequest = z.infer<typeof ZChangeOwnPasswordRequestSchema>;

/** Changes the actor's password; every other session of theirs is revoked, the current one stays signed in. */
export async function changeOwnPassword(actor: UserActor, input: TChangeOwnPasswordRequest) {
  const user = await db.user.findUnique({ where: { id: actor.id } });
  if (!user) throw notFound("User");
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new AppError("INVALID_INPUT", "Your current password is not correct.", {
      fieldErrors: { currentPassword: ["Not correct."] },
    });
  }
  const passwordHash = await hashPassword(input.newPassword);
  await db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash, mustChangePassword: false } });
    await tx.authSession.updateMany({
      where: { userId: user.id, revokedAt: null, ...(actor.sessionId ? { id: { not: actor.sessionId } } : {}) },
      data: { revokedAt: new Date() },
    });
    await recordAuditEvent(tx, actor, {
      type: "USER_PASSWORD_CHANGED",
      object: { type: "User", id: user.id },
      scope: { customerId: user.customerId },
      summary: `${user.email} changed their password`,
    });
  });
  if (user.mustChangePassword && user.email === FIRST_ADMIN_EMAIL) await forgetInitialAdminCredentials(input.currentPassword);
}
