import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { UserActor } from "../auth/actor";
import { db } from "../db/client";
import { siteFloorBlocker } from "../rollouts/planner";
import { parseInput } from "../validation";
import { loadManagedEnvironment } from "../environments/load-managed-environment";
import { lockEnvironment } from "../deployments/request-deployment";

export const ZUpdateSiteSettingsRequestSchema = z.object({
  environmentId: z.uuid(),
  siteOrder: z.enum(["CHOSEN", "SMALLEST_FIRST"], "Choose the order: yours, or the smallest site first."),
  siteFloor: z.coerce
    .number("Enter how many servers of each site keep serving.")
    .int("Enter a whole number.")
    .min(0, "At least 0 (0: no floor beyond never taking every server out).")
    .max(100, "At most 100."),
  // What a form sends ("on", absent) and what the domain's own callers send (booleans).
  pauseAfterFirstSite: z.preprocess((v) => v === "on" || v === "true" || v === true, z.boolean()),
});
export type TUpdateSiteSettingsRequest = z.input<typeof ZUpdateSiteSettingsRequestSchema>;

const FIELDS = ["siteOrder", "siteFloor", "pauseAfterFirstSite"] as const;

/**
 * How an environment's rollouts go through its sites: in ops' order or the smallest site first, with a floor of
 * servers that keep serving in each site, and whether to pause after the first site until someone continues. A
 * deployment keeps the settings it was requested with; these apply to the next one. A floor that some site cannot
 * satisfy today is saved (servers may be on their way), and the answer says which site would refuse deployments.
 * Audited as a change of the environment's settings, with only the fields that changed.
 */
export async function updateSiteSettings(actor: UserActor, raw: TUpdateSiteSettingsRequest) {
  const { environmentId, ...settings } = parseInput(ZUpdateSiteSettingsRequestSchema, raw);
  const env = await loadManagedEnvironment(actor, environmentId);
  return db.$transaction(async (tx) => {
    await lockEnvironment(tx, env.id);
    const current = await tx.environment.findUniqueOrThrow({ where: { id: env.id } });
    // One query at a time: a transaction is one connection.
    const sites = await tx.site.findMany({ where: { environmentId: env.id }, select: { id: true, name: true, position: true } });
    const targets = await tx.target.findMany({ where: { environmentId: env.id, status: { not: "REVOKED" } }, select: { id: true, siteId: true } });
    const warning = targets.length > 0 ? siteFloorBlocker(sites, targets, settings.siteFloor) : null;
    const changed = FIELDS.filter((k) => current[k] !== settings[k]);
    if (changed.length === 0) return { changed: [] as string[], warning };
    await tx.environment.update({ where: { id: env.id }, data: settings });
    await recordAuditEvent(tx, actor, {
      type: "ENVIRONMENT_UPDATED",
      object: { type: "Environment", id: env.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id },
      summary: `changed how ${env.application.name} / ${env.name} rolls out across its sites: ${changed.join(", ")}`,
      before: Object.fromEntries(changed.map((k) => [k, current[k]])),
      after: Object.fromEntries(changed.map((k) => [k, settings[k]])),
    });
    return { changed: changed as string[], warning };
  });
}
