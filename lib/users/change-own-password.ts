import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { hashPassword, verifyPassword } from "../auth/password";
import { ZPassword } from "../auth/password-policy";
import { tallyThrottledSignIn } from "../auth/report-throttled-sign-ins";
import { takeSignInAttempt } from "../auth/throttle";
import { db } from "../db/client";
import { AppError, isAppError, notFound } from "../errors";
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

/**
 * Changes the actor's password; every other session of theirs is revoked, the current one stays signed in.
 * The current password is checked under the sign-in limits (the same counters: lib/auth/throttle.ts), so a session
 * someone else got hold of is no way to guess the password without limit; each wrong one is audited.
 */
export async function changeOwnPassword(actor: UserActor, input: TChangeOwnPasswordRequest) {
  const user = await db.user.findUnique({ where: { id: actor.id } });
  if (!user) throw notFound("User");
  let attempt;
  try {
    attempt = await takeSignInAttempt(user.email, actor.ctx.ip);
  } catch (e) {
    if (isAppError(e) && e.code === "TOO_MANY_REQUESTS") await tallyThrottledSignIn(user.email, actor.ctx.ip);
    throw e;
  }
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    await attempt.settle("failed");
    await db.$transaction((tx) =>
      recordAuditEvent(tx, actor, {
        type: "USER_PASSWORD_CHANGE_FAILED",
        object: { type: "User", id: user.id },
        scope: { customerId: user.customerId },
        summary: `${user.email} gave a wrong current password when changing it`,
      }),
    );
    throw new AppError("INVALID_INPUT", "Your current password is not correct.", {
      fieldErrors: { currentPassword: ["Not correct."] },
    });
  }
  await attempt.settle("succeeded");
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
