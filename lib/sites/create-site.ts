import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { conflict, isUniqueViolation } from "../errors";
import { parseInput } from "../validation";
import { ZSiteName } from "./load-managed-site";
import { loadManagedEnvironment } from "../environments/load-managed-environment";
import { lockEnvironment } from "../deployments/request-deployment";

export const ZCreateSiteRequestSchema = z.object({ environmentId: z.uuid(), name: ZSiteName });
export type TCreateSiteRequest = z.input<typeof ZCreateSiteRequestSchema>;

/** Adds a site (data centre) to an environment, last in the order rollouts walk the sites in. */
export async function createSite(actor: UserActor, raw: TCreateSiteRequest) {
  const input = parseInput(ZCreateSiteRequestSchema, raw);
  const env = await loadManagedEnvironment(actor, input.environmentId);
  try {
    return await db.$transaction(async (tx) => {
      await lockEnvironment(tx, env.id);
      const last = await tx.site.aggregate({ where: { environmentId: env.id }, _max: { position: true } });
      const site = await tx.site.create({ data: { environmentId: env.id, name: input.name, position: (last._max.position ?? -1) + 1 } });
      await recordAuditEvent(tx, actor, {
        type: "SITE_CREATED",
        object: { type: "Site", id: site.id },
        scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
        summary: `added site ${site.name} to ${env.application.name} / ${env.name}`,
        after: { name: site.name, position: site.position },
      });
      return site;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`${env.name} already has a site named ${input.name}.`);
    throw e;
  }
}
