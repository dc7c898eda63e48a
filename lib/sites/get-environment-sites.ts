import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { orderSites, siteFloorBlocker } from "../rollouts/planner";

export const ZGetEnvironmentSitesRequestSchema = z.object({ applicationId: z.uuid(), environmentId: z.uuid() });
export type TGetEnvironmentSitesRequest = z.input<typeof ZGetEnvironmentSitesRequestSchema>;

/**
 * An environment's sites in ops' order with their servers, the servers without a site, the site settings, the order
 * the next rollout would walk them in (from the planner's own rule) and what would refuse it. Anyone who may view the
 * application sees the topology; `manages` says whether they may change it. Outside the actor's tenant: NOT_FOUND.
 */
export async function getEnvironmentSites(actor: UserActor, raw: TGetEnvironmentSitesRequest) {
  const parsed = ZGetEnvironmentSitesRequestSchema.safeParse(raw);
  if (!parsed.success || !can(actor, "application.view", parsed.data.applicationId)) throw notFound("Environment");
  const { applicationId, environmentId } = parsed.data;
  const env = await db.environment.findFirst({
    where: { id: environmentId, applicationId },
    select: {
      id: true,
      name: true,
      siteOrder: true,
      siteFloor: true,
      pauseAfterFirstSite: true,
      sites: { orderBy: { position: "asc" }, select: { id: true, name: true, position: true } },
      targets: { orderBy: [{ name: "asc" }, { id: "asc" }], select: { id: true, name: true, status: true, siteId: true } },
    },
  });
  if (!env) throw notFound("Environment");
  const rolling = await db.deployment.findFirst({ where: { environmentId, status: { in: ["QUEUED", "RUNNING", "ROLLING_BACK"] } }, select: { id: true } });
  // What a rollout would cover: servers whose agent is enrolled.
  const enrolled = env.targets.filter((t) => t.status === "ACTIVE");
  return {
    id: env.id,
    name: env.name,
    settings: { siteOrder: env.siteOrder, siteFloor: env.siteFloor, pauseAfterFirstSite: env.pauseAfterFirstSite },
    sites: env.sites.map((s) => ({ ...s, servers: env.targets.filter((t) => t.siteId === s.id) })),
    withoutSite: env.targets.filter((t) => t.siteId === null),
    servers: env.targets,
    nextOrder: env.sites.length > 0 ? orderSites(env.sites, enrolled, env.siteOrder).map((g) => g.name) : [],
    floorProblem: siteFloorBlocker(env.sites, enrolled, env.siteFloor),
    /** A rollout runs: servers cannot change sites until it ends. */
    rolloutRunning: rolling?.id ?? null,
    manages: can(actor, "target.manage", applicationId),
  };
}

export type EnvironmentSites = Awaited<ReturnType<typeof getEnvironmentSites>>;
