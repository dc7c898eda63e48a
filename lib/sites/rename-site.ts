import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { conflict, isUniqueViolation } from "../errors";
import { parseInput } from "../validation";
import { loadManagedSite, ZSiteId, ZSiteName } from "./load-managed-site";
import { lockEnvironment } from "../deployments/request-deployment";

export const ZRenameSiteRequestSchema = z.object({ siteId: ZSiteId, name: ZSiteName });
export type TRenameSiteRequest = z.input<typeof ZRenameSiteRequestSchema>;

/** Renames a site. A rollout that paused after it keeps the name it had then (its record says what people saw). */
export async function renameSite(actor: UserActor, raw: TRenameSiteRequest) {
  const input = parseInput(ZRenameSiteRequestSchema, raw);
  const site = await loadManagedSite(actor, input.siteId);
  const env = site.environment;
  try {
    return await db.$transaction(async (tx) => {
      await lockEnvironment(tx, env.id);
      const current = await tx.site.findUniqueOrThrow({ where: { id: site.id } });
      if (current.name === input.name) return { site: current, changed: false };
      const renamed = await tx.site.update({ where: { id: site.id }, data: { name: input.name } });
      await recordAuditEvent(tx, actor, {
        type: "SITE_RENAMED",
        object: { type: "Site", id: site.id },
        scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
        summary: `renamed site ${current.name} of ${env.application.name} / ${env.name} to ${renamed.name}`,
        before: { name: current.name },
        after: { name: renamed.name },
      });
      return { site: renamed, changed: true };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`${env.name} already has a site named ${input.name}.`);
    throw e;
  }
}
