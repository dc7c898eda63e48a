import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { conflict } from "../errors";
import { parseInput } from "../validation";
import { loadManagedSite, ZSiteId } from "./load-managed-site";
import { lockEnvironment } from "../deployments/request-deployment";

export const ZDeleteSiteRequestSchema = z.object({ siteId: ZSiteId });
export type TDeleteSiteRequest = z.input<typeof ZDeleteSiteRequestSchema>;

/**
 * Removes a site that holds no server. One that still does is refused, naming them: moving them out is a decision
 * about each server's place in rollouts (and is refused while one runs), not a side effect of a removal.
 */
export async function deleteSite(actor: UserActor, raw: TDeleteSiteRequest) {
  const input = parseInput(ZDeleteSiteRequestSchema, raw);
  const site = await loadManagedSite(actor, input.siteId);
  const env = site.environment;
  await db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    const servers = await tx.target.findMany({ where: { siteId: site.id }, select: { name: true }, orderBy: { name: "asc" } });
    if (servers.length > 0) {
      throw conflict(`Site ${site.name} still holds ${servers.map((s) => s.name).join(", ")}: move ${servers.length === 1 ? "it" : "them"} to another site (or to none) first.`);
    }
    await tx.site.delete({ where: { id: site.id } });
    await recordAuditEvent(tx, actor, {
      type: "SITE_DELETED",
      object: { type: "Site", id: site.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `removed site ${site.name} from ${env.application.name} / ${env.name}`,
      before: { name: site.name, position: site.position },
    });
  });
  return { name: site.name };
}
