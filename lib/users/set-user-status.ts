import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, notFound } from "../errors";

export const ZSetUserStatusRequestSchema = z.object({
  userId: z.uuid(),
  status: z.enum(["ACTIVE", "DISABLED"]),
});
export type TSetUserStatusRequest = z.infer<typeof ZSetUserStatusRequestSchema>;

/**
 * Disables or re-enables an account. Disabling bumps the session version and revokes every session, so the person
 * is signed out on their next request wherever they are signed in.
 */
export async function setUserStatus(actor: UserActor, input: TSetUserStatusRequest) {
  assertCan(actor, "user.disable");
  if (input.userId === actor.id && input.status === "DISABLED") throw conflict("You cannot disable your own account.");
  return db.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: input.userId } });
    if (!user) throw notFound("User");
    // Conditional on the current status so two admins clicking at once cannot both apply (and audit) a change.
    const changed = await tx.user.updateMany({
      where: { id: user.id, status: input.status === "DISABLED" ? "ACTIVE" : "DISABLED" },
      data: { status: input.status, ...(input.status === "DISABLED" ? { sessionVersion: { increment: 1 } } : {}) },
    });
    if (changed.count === 0) throw conflict(`${user.email} is already ${input.status === "DISABLED" ? "disabled" : "active"}.`);
    if (input.status === "DISABLED") {
      await tx.authSession.updateMany({ where: { userId: user.id, revokedAt: null }, data: { revokedAt: new Date() } });
    }
    await recordAuditEvent(tx, actor, {
      type: input.status === "DISABLED" ? "USER_DISABLED" : "USER_ENABLED",
      object: { type: "User", id: user.id },
      scope: { customerId: user.customerId },
      summary: `${input.status === "DISABLED" ? "disabled" : "enabled"} user ${user.email}`,
      before: { status: user.status },
      after: { status: input.status },
    });
  });
}
