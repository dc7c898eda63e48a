import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, isUniqueViolation, notFound } from "../errors";

export const ZRoleSchema = z.enum(["DEVELOPER", "CUSTOMER", "APPROVER", "OPS", "AUDITOR"], "Choose a role.");

export const ZGrantRoleRequestSchema = z.object({
  applicationId: z.uuid(),
  userId: z.uuid("Choose a user."),
  role: ZRoleSchema,
});
export type TGrantRoleRequest = z.infer<typeof ZGrantRoleRequestSchema>;

/**
 * Gives a user a role on an application. A customer-side user can only hold roles on their own customer's
 * applications (the tenant boundary). Takes effect on the user's next request.
 */
export async function grantRole(actor: UserActor, input: TGrantRoleRequest) {
  if (!can(actor, "application.view", input.applicationId)) throw notFound("Application");
  assertCan(actor, "membership.grant", input.applicationId);
  try {
    return await db.$transaction(async (tx) => {
      const app = await tx.application.findUnique({ where: { id: input.applicationId }, include: { customer: true } });
      const user = await tx.user.findUnique({ where: { id: input.userId }, include: { customer: true } });
      if (!app) throw notFound("Application");
      if (!user) throw notFound("User");
      if (user.customerId !== null && user.customerId !== app.customerId) {
        throw conflict(`${user.email} belongs to ${user.customer?.name ?? "another customer"} and cannot get a role on ${app.customer.name}'s applications.`);
      }
      const membership = await tx.membership.create({ data: { applicationId: app.id, userId: user.id, role: input.role } });
      await recordAuditEvent(tx, actor, {
        type: "ROLE_GRANTED",
        object: { type: "Membership", id: membership.id },
        scope: { customerId: app.customerId, applicationId: app.id },
        summary: `granted ${input.role} on ${app.name} to ${user.email}`,
        after: { userId: user.id, email: user.email, role: input.role, application: app.name },
      });
      return membership;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict("That user already has this role on this application.");
    throw e;
  }
}
