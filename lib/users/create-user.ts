import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { generatePassword, hashPassword } from "../auth/password";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, isUniqueViolation, notFound } from "../errors";
import { auditUser, ZEmail, ZPersonName } from "./user-fields";

export const ZCreateUserRequestSchema = z.object({
  name: ZPersonName,
  email: ZEmail,
  /** Empty for the hosting company's own staff; set for a customer's tester. */
  customerId: z.preprocess((v) => (v === "" ? null : v), z.uuid().nullable().default(null)),
  isPlatformAdmin: z.preprocess((v) => v === "on" || v === "true" || v === true, z.boolean()).default(false),
});
export type TCreateUserRequest = z.infer<typeof ZCreateUserRequestSchema>;

/**
 * Creates an account with a generated one-time password, returned here and never stored in clear. The person
 * must choose their own password at first sign-in.
 */
export async function createUser(actor: UserActor, input: TCreateUserRequest) {
  assertCan(actor, "user.create");
  const oneTimePassword = generatePassword();
  const passwordHash = await hashPassword(oneTimePassword);
  try {
    const user = await db.$transaction(async (tx) => {
      if (input.customerId && !(await tx.customer.findUnique({ where: { id: input.customerId } }))) throw notFound("Customer");
      const created = await tx.user.create({
        data: { ...input, passwordHash, mustChangePassword: true },
      });
      await recordAuditEvent(tx, actor, {
        type: "USER_CREATED",
        object: { type: "User", id: created.id },
        scope: { customerId: created.customerId },
        summary: `created user ${created.email}${created.isPlatformAdmin ? " (platform admin)" : ""}`,
        after: auditUser(created),
      });
      return created;
    });
    return { user, oneTimePassword };
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A user with the email ${input.email} already exists.`);
    throw e;
  }
}
