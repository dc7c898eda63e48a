import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { invalid } from "../errors";
import { parseInput } from "../validation";
import { loadManagedSite, ZSiteId } from "./load-managed-site";
import { lockEnvironment } from "../deployments/request-deployment";

export const ZMoveSiteRequestSchema = z.object({ siteId: ZSiteId, direction: z.enum(["up", "down"], "Move the site up or down.") });
export type TMoveSiteRequest = z.input<typeof ZMoveSiteRequestSchema>;

/**
 * Moves a site a place earlier or later in ops' order (the order rollouts walk the sites in when the environment
 * uses "the order we choose"). A rollout already running keeps the order it started with.
 */
export async function moveSite(actor: UserActor, raw: TMoveSiteRequest) {
  const input = parseInput(ZMoveSiteRequestSchema, raw);
  const site = await loadManagedSite(actor, input.siteId);
  const env = site.environment;
  return db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    const sites = await tx.site.findMany({ where: { environmentId: env.id }, orderBy: { position: "asc" } });
    const order = sites.map((s) => s.id);
    const from = order.indexOf(site.id);
    const to = input.direction === "up" ? from - 1 : from + 1;
    if (from === -1 || to < 0 || to >= order.length) throw invalid(`Site ${site.name} is already ${input.direction === "up" ? "first" : "last"}.`);
    [order[from], order[to]] = [order[to]!, order[from]!];
    // Positions are unique per environment: park every row in a negative range first, then number them 0..n-1.
    for (const [i, id] of order.entries()) await tx.site.update({ where: { id }, data: { position: -1 - i } });
    for (const [i, id] of order.entries()) await tx.site.update({ where: { id }, data: { position: i } });
    const names = (ids: string[]) => ids.map((id) => sites.find((s) => s.id === id)!.name);
    await recordAuditEvent(tx, actor, {
      type: "SITES_REORDERED",
      object: { type: "Environment", id: env.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `reordered the sites of ${env.application.name} / ${env.name}: ${names(order).join(" -> ")}`,
      before: names(sites.map((s) => s.id)),
      after: names(order),
    });
    return names(order);
  });
}
