import "server-only";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { assertCan, can } from "../auth/permissions";
import type { Tx } from "../db/client";
import { db } from "../db/client";
import { notFound } from "../errors";
import { ROLLOUT_SETTING_FIELDS } from "../environments/update-rollout-settings";
import { CONFIGURATION_FORMAT, POLICY_FIELDS, type TConfigurationDocument } from "./configuration-document";

/** The application's configuration as the file says it; ids beside, for applying a plan to it. */
export async function loadConfiguration(tx: Tx | typeof db, applicationId: string) {
  const app = await tx.application.findUniqueOrThrow({
    where: { id: applicationId },
    include: {
      environments: {
        orderBy: { position: "asc" },
        include: {
          balancers: { orderBy: { name: "asc" } },
          sites: { orderBy: { position: "asc" } },
          targets: { where: { status: { not: "REVOKED" } }, orderBy: { name: "asc" }, include: { site: true, balancers: { include: { balancer: true }, orderBy: [{ balancer: { name: "asc" } }, { backend: "asc" }] } } },
        },
      },
    },
  });
  const document: TConfigurationDocument = {
    format: CONFIGURATION_FORMAT,
    application: { name: app.name, slug: app.slug },
    environments: app.environments.map((e) => ({
      name: e.name,
      policy: Object.fromEntries(POLICY_FIELDS.map((f) => [f, e[f]])) as TConfigurationDocument["environments"][number]["policy"],
      rollout: Object.fromEntries(ROLLOUT_SETTING_FIELDS.map((f) => [f, e[f]])) as TConfigurationDocument["environments"][number]["rollout"],
      sites: e.sites.map((x) => x.name),
      siteRollout: { siteOrder: e.siteOrder, siteFloor: e.siteFloor, pauseAfterFirstSite: e.pauseAfterFirstSite },
      balancers: e.balancers.map((b) =>
        b.kind === "HAPROXY" ? { name: b.name, kind: "HAPROXY" as const, address: b.address ?? "" } : { name: b.name, kind: "HOOK" as const, drainCommand: b.drainCommand ?? "", undrainCommand: b.undrainCommand ?? "" },
      ),
      servers: e.targets.map((t) => ({
        name: t.name,
        ...(t.site ? { site: t.site.name } : {}),
        behind: t.balancers.map((m) => ({ balancer: m.balancer.name, ...(m.backend ? { backend: m.backend } : {}), ...(m.server ? { server: m.server } : {}) })),
      })),
    })),
  };
  return { app, document };
}

/**
 * The application's configuration file (format releasegate.application/v1): what GET answers and PUT takes. It holds
 * hook commands and balancer addresses, so only people who manage the servers read it (ops, administrators).
 */
export async function readConfiguration(actor: UserActor | ApiTokenActor, applicationId: string): Promise<TConfigurationDocument> {
  if (!can(actor, "application.view", applicationId)) throw notFound("Application");
  assertCan(actor, "target.manage", applicationId);
  const found = await db.application.findUnique({ where: { id: applicationId }, select: { id: true } });
  if (!found) throw notFound("Application");
  return (await loadConfiguration(db, applicationId)).document;
}
