import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";

export const ZRevokeRoleRequestSchema = z.object({ membershipId: z.uuid() });
export type TRevokeRoleRequest = z.infer<typeof ZRevokeRoleRequestSchema>;

/** Removes a role; the user loses what it granted on their very next request. */
export async function revokeRole(actor: UserActor, input: TRevokeRoleRequest) {
  return db.$transaction(async (tx) => {
    const m = await tx.membership.findUnique({
      where: { id: input.membershipId },
      include: { user: true, application: true },
    });
    if (!m || !can(actor, "application.view", m.applicationId)) throw notFound("Role");
    assertCan(actor, "membership.revoke", m.applicationId);
    // deleteMany (not delete) so a double click finds nothing the second time instead of failing.
    const deleted = await tx.membership.deleteMany({ where: { id: m.id } });
    if (deleted.count === 0) throw notFound("Role");
    await recordAuditEvent(tx, actor, {
      type: "ROLE_REVOKED",
      object: { type: "Membership", id: m.id },
      scope: { customerId: m.application.customerId, applicationId: m.applicationId },
      summary: `revoked ${m.role} on ${m.application.name} from ${m.user.email}`,
      before: { userId: m.userId, email: m.user.email, role: m.role, application: m.application.name },
    });
  });
}
