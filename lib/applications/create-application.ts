import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { assertCan } from "../auth/permissions";
import { db } from "../db/client";
import { DEFAULT_ENVIRONMENTS } from "../environments/default-environments";
import { conflict, isUniqueViolation, notFound } from "../errors";
import { slugify } from "../util/slugify";
import { ZText } from "../validation";

export const ZCreateApplicationRequestSchema = z.object({
  customerId: z.uuid("Choose a customer."),
  name: ZText().trim().min(2, "Enter a name of at least 2 characters.").max(100, "Use at most 100 characters."),
  description: ZText().trim().max(2000, "Use at most 2000 characters.").default(""),
});
export type TCreateApplicationRequest = z.infer<typeof ZCreateApplicationRequestSchema>;

/** Creates an application of a customer with the default lifecycle QA -> Acceptance -> Production. */
export async function createApplication(actor: UserActor, input: TCreateApplicationRequest) {
  assertCan(actor, "application.create");
  try {
    return await db.$transaction(async (tx) => {
      const customer = await tx.customer.findUnique({ where: { id: input.customerId } });
      if (!customer) throw notFound("Customer");
      const app = await tx.application.create({
        data: {
          customerId: customer.id,
          name: input.name,
          slug: slugify(input.name),
          description: input.description,
          environments: { create: DEFAULT_ENVIRONMENTS.map((e) => ({ ...e })) },
        },
        include: { environments: { orderBy: { position: "asc" } } },
      });
      await recordAuditEvent(tx, actor, {
        type: "APPLICATION_CREATED",
        object: { type: "Application", id: app.id },
        scope: { customerId: customer.id, applicationId: app.id },
        summary: `created application ${app.name} for ${customer.name}`,
        after: { name: app.name, slug: app.slug, environments: app.environments.map((e) => e.name) },
      });
      return app;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`This customer already has an application named "${input.name}".`);
    throw e;
  }
}
