import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";
import { conflict, isUniqueViolation } from "../errors";
import { slugify } from "../util/slugify";
import { ZText } from "../validation";

export const ZCreateCustomerRequestSchema = z.object({
  name: ZText().trim().min(2, "Enter a name of at least 2 characters.").max(100, "Use at most 100 characters."),
});
export type TCreateCustomerRequest = z.infer<typeof ZCreateCustomerRequestSchema>;

export async function createCustomer(actor: UserActor, input: TCreateCustomerRequest) {
  assertCan(actor, "customer.create");
  try {
    return await db.$transaction(async (tx) => {
      const customer = await tx.customer.create({ data: { name: input.name, slug: slugify(input.name) } });
      await recordAuditEvent(tx, actor, {
        type: "CUSTOMER_CREATED",
        object: { type: "Customer", id: customer.id },
        scope: { customerId: customer.id },
        summary: `created customer ${customer.name}`,
        after: { name: customer.name, slug: customer.slug },
      });
      return customer;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A customer named "${input.name}" already exists.`);
    throw e;
  }
}
