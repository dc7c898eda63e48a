import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { parseInput } from "../validation";
import { ACTIVE_DEPLOYMENT_STATUSES, isActiveDeployment, rolloutProgress } from "./rollout-progress";

export const ZListDeploymentsRequestSchema = z.object({
  applicationId: z.uuid(),
  environmentId: z.uuid().optional(),
  /** Only deployments that are scheduled, queued, running or rolling back. */
  activeOnly: z.boolean().default(false),
  limit: z.coerce.number().int("limit must be a whole number.").min(1).max(200, "At most 200 deployments a page.").default(50),
});
export type TListDeploymentsRequest = z.input<typeof ZListDeploymentsRequestSchema>;

/**
 * An application's deployments and reverts, newest first, optionally of one environment, each with how far its
 * rollout came. Outside the actor's tenant (or for an environment of another application) the answer is NOT_FOUND.
 */
export async function listDeployments(actor: UserActor, raw: TListDeploymentsRequest) {
  const input = parseInput(ZListDeploymentsRequestSchema, raw);
  if (!can(actor, "application.view", input.applicationId)) throw notFound("Application");
  if (input.environmentId) {
    const env = await db.environment.findFirst({ where: { id: input.environmentId, applicationId: input.applicationId }, select: { id: true } });
    if (!env) throw notFound("Environment");
  }
  const rows = await db.deployment.findMany({
    where: {
      environment: { applicationId: input.applicationId },
      ...(input.environmentId ? { environmentId: input.environmentId } : {}),
      ...(input.activeOnly ? { status: { in: [...ACTIVE_DEPLOYMENT_STATUSES] } } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit,
    select: {
      id: true,
      kind: true,
      status: true,
      reason: true,
      failureReason: true,
      scheduledFor: true,
      cancelRequestedAt: true,
      pausedAt: true,
      pausedAfterSite: true,
      continuedAt: true,
      createdAt: true,
      startedAt: true,
      finishedAt: true,
      release: { select: { id: true, version: true, artifactSha256: true } },
      previousRelease: { select: { id: true, version: true } },
      environment: { select: { id: true, name: true } },
      requestedBy: { select: { id: true, name: true } },
      steps: { select: { targetId: true, action: true, status: true } },
    },
  });
  // A running rollout also covers the enrolled servers it has not reached yet.
  const activeEnvironments = [...new Set(rows.filter((r) => isActiveDeployment(r.status)).map((r) => r.environment.id))];
  const enrolled = activeEnvironments.length
    ? await db.target.findMany({ where: { environmentId: { in: activeEnvironments }, status: "ACTIVE" }, select: { id: true, environmentId: true } })
    : [];
  return rows.map(({ steps, ...r }) => {
    const servers = isActiveDeployment(r.status) ? enrolled.filter((t) => t.environmentId === r.environment.id).map((t) => t.id) : [];
    return { ...r, progress: rolloutProgress(r.status, servers, steps) };
  });
}

export type DeploymentListRow = Awaited<ReturnType<typeof listDeployments>>[number];
