import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { notFound } from "../errors";
import { loadManagedTarget } from "../targets/load-managed-target";
import { emptyAsUndefined, parseInput } from "../validation";
import { assertNoRolloutRunning } from "./load-managed-site";
import { lockEnvironment } from "../deployments/request-deployment";

export const ZAssignTargetSiteRequestSchema = z.object({
  targetId: z.uuid("Choose a server."),
  /** Empty: no site (the server joins the implicit site of servers without one). */
  siteId: z.preprocess(emptyAsUndefined, z.uuid("Choose a site.").optional()),
});
export type TAssignTargetSiteRequest = z.input<typeof ZAssignTargetSiteRequestSchema>;

/**
 * Puts a server in a site of its environment, moves it to another, or takes it out of its site. Refused while a
 * rollout runs there (lib/sites/load-managed-site.ts says why). Saving the site it is already in changes nothing.
 */
export async function assignTargetSite(actor: UserActor, raw: TAssignTargetSiteRequest) {
  const input = parseInput(ZAssignTargetSiteRequestSchema, raw);
  const target = await loadManagedTarget(actor, input.targetId);
  const env = target.environment;
  return db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    // Only a site of the server's own environment: any other id names nothing here.
    const site = input.siteId ? await tx.site.findFirst({ where: { id: input.siteId, environmentId: env.id } }) : null;
    if (input.siteId && !site) throw notFound("Site");
    const current = await tx.target.findUniqueOrThrow({ where: { id: target.id }, include: { site: true } });
    if (current.siteId === (site?.id ?? null)) return { target: current, site, changed: false };
    await assertNoRolloutRunning(tx, env.id, env.name);
    const updated = await tx.target.update({ where: { id: target.id }, data: { siteId: site?.id ?? null } });
    const where = (s: { name: string } | null) => (s ? `site ${s.name}` : "no site");
    await recordAuditEvent(tx, actor, {
      type: "TARGET_SITE_CHANGED",
      object: { type: "Target", id: target.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `moved server ${target.name} of ${env.application.name} / ${env.name} from ${where(current.site)} to ${where(site)}`,
      before: { siteId: current.siteId, site: current.site?.name ?? null },
      after: { siteId: site?.id ?? null, site: site?.name ?? null },
    });
    return { target: updated, site, changed: true };
  });
}
