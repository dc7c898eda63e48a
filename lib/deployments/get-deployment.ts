import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { type TAnalysisResult, ZAnalysisResultSchema } from "../contracts/agent-api";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { NO_SITE, NO_SITE_NAME, orderSites } from "../rollouts/planner";
import { cancelPermissionFor } from "./cancel-deployment";
import { continuePermissionFor, whoMayContinue } from "./rollout-control-permissions";
import { deploymentFingerprint } from "./deployment-fingerprint";
import { isActiveDeployment, rolloutProgress } from "./rollout-progress";
import { scheduledDeploymentBlockers } from "./scheduled-deployment-blockers";

export const ZGetDeploymentRequestSchema = z.object({ deploymentId: z.uuid() });
export type TGetDeploymentRequest = z.input<typeof ZGetDeploymentRequestSchema>;

/**
 * One deployment as its live view shows it: the release and what it replaces, who asked and why, and every server
 * of the rollout with its steps in the order they ran. Servers the rollout has not reached yet are listed with no
 * steps. Outside the actor's tenant the answer is NOT_FOUND, the same as for an id that does not exist.
 */
export async function getDeployment(actor: UserActor, raw: TGetDeploymentRequest) {
  const { deploymentId } = parseInputOrNotFound(raw);
  // Before the data: a change while it is read makes the live view read again (watch-deployment.ts).
  const { key: fingerprint } = await deploymentFingerprint(deploymentId);
  const d = await db.deployment.findUnique({
    where: { id: deploymentId },
    include: {
      release: { select: { id: true, version: true, artifactSha256: true, needsMigration: true } },
      previousRelease: { select: { id: true, version: true, artifactSha256: true } },
      requestedBy: { select: { id: true, name: true, email: true } },
      continuedBy: { select: { name: true } },
      environment: {
        select: {
          id: true,
          name: true,
          isProduction: true,
          applicationId: true,
          application: { select: { id: true, name: true, customer: { select: { id: true, name: true } } } },
        },
      },
      steps: {
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        select: {
          id: true,
          targetId: true,
          action: true,
          batch: true,
          status: true,
          phase: true,
          message: true,
          progress: true,
          attempt: true,
          logSeq: true,
          fromPath: true,
          analysis: true,
          startedAt: true,
          finishedAt: true,
          target: { select: { name: true, siteId: true } },
        },
      },
    },
  });
  if (!d || !can(actor, "application.view", d.environment.applicationId)) throw notFound("Deployment");

  const active = isActiveDeployment(d.status);
  // While it runs, the rollout also covers enrolled servers it has not reached yet (the planner's own rule).
  const waiting = active
    ? await db.target.findMany({ where: { environmentId: d.environment.id, status: "ACTIVE" }, select: { id: true, name: true, siteId: true }, orderBy: [{ name: "asc" }, { id: "asc" }] })
    : [];
  const servers = new Map<string, { id: string; name: string; siteId: string | null; steps: (Omit<(typeof d.steps)[number], "analysis"> & { analysis: TAnalysisResult | null })[] }>();
  for (const t of waiting) servers.set(t.id, { id: t.id, name: t.name, siteId: t.siteId, steps: [] });
  for (const raw of d.steps) {
    const s = { ...raw, analysis: analysisOf(raw.analysis) };
    const server = servers.get(s.targetId) ?? { id: s.targetId, name: s.target.name, siteId: s.target.siteId, steps: [] };
    server.steps.push(s);
    servers.set(s.targetId, server);
  }
  const sorted = [...servers.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  // The servers by site, in the order the rollout walks them (fixed when it started; before that, as it would).
  // Servers do not change sites while a rollout runs (lib/sites/load-managed-site.ts); afterwards, a server moved
  // since is shown in its site of now.
  const sites = await db.site.findMany({ where: { environmentId: d.environment.id }, select: { id: true, name: true, position: true } });
  const groups = orderSites(sites, sorted, d.siteOrder);
  const rank = (key: string) => (d.siteSequence.includes(key) ? d.siteSequence.indexOf(key) : d.siteSequence.length + groups.findIndex((g) => g.key === key));
  const siteGroups = [...groups].sort((a, b) => rank(a.key) - rank(b.key)).map((g) => ({ key: g.key, name: g.key === NO_SITE ? null : g.name, servers: g.targets }));
  // A scheduled deployment that would be refused at its time, as the deploy panel shows it.
  const scheduledBlockers = d.status === "SCHEDULED" && d.scheduledFor ? await scheduledDeploymentBlockers(db, d, d.scheduledFor) : [];
  // A revert past Releasegate's first release: each server's build from before it, as the rollout restores them.
  const earlierBuilds =
    d.releaseId === null
      ? (await db.target.findMany({ where: { environmentId: d.environment.id, status: "ACTIVE", takenOverFromPath: { not: null } }, select: { name: true, takenOverFromPath: true }, orderBy: { name: "asc" } })).map((t) => ({
          server: t.name,
          path: t.takenOverFromPath ?? "",
        }))
      : [];
  const cancelRequestedBy = d.cancelRequestedById
    ? await db.user.findUnique({ where: { id: d.cancelRequestedById }, select: { name: true } })
    : null;
  const { steps, ...deployment } = d;
  // Where a paused rollout goes when continued: the first site (in order) with a server not yet activated.
  const nextSite = siteGroups.find((g) => g.servers.some((x) => !x.steps.some((s) => s.action === "ACTIVATE")));
  const waitingToContinue = d.status === "RUNNING" && d.pausedAt !== null && d.continuedAt === null && d.cancelRequestedAt === null;
  return {
    ...deployment,
    cancelRequestedBy,
    /** Its servers by site in rollout order; one group with a null name when the environment has no sites. */
    siteGroups,
    /** Paused after its first site and nobody has continued it yet. */
    waitingToContinue,
    nextSite: nextSite ? (nextSite.name ?? NO_SITE_NAME) : null,
    mayContinue: waitingToContinue && can(actor, continuePermissionFor(d.environment), d.environment.applicationId),
    whoMayContinue: whoMayContinue(d.environment),
    scheduledBlockers,
    earlierBuilds,
    servers: sorted,
    progress: rolloutProgress(d.status, waiting.map((t) => t.id), steps),
    active,
    fingerprint,
    mayCancel:
      ["SCHEDULED", "QUEUED", "RUNNING"].includes(d.status) && d.cancelRequestedAt === null && can(actor, cancelPermissionFor(d.environment), d.environment.applicationId),
  };
}

export type DeploymentDetail = Awaited<ReturnType<typeof getDeployment>>;

/** A step's post-deploy analysis as the agent reported it (validated then); null when there is none. */
function analysisOf(json: unknown): TAnalysisResult | null {
  if (json === null) return null;
  const parsed = ZAnalysisResultSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** An id that is not a UUID cannot name a deployment: answered as not found, like one in another tenant. */
function parseInputOrNotFound(raw: TGetDeploymentRequest) {
  const parsed = ZGetDeploymentRequestSchema.safeParse(raw);
  if (!parsed.success) throw notFound("Deployment");
  return parsed.data;
}
