import "server-only";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import type { StepStatus } from "../db/generated/enums";
import { notFound } from "../errors";

const FINISHED = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Where a deployment stands, for a pipeline that polls it: status, whether it is over, why it failed, and each
 * server's step. Visible to anyone who may view the application; otherwise NOT_FOUND.
 */
export async function getDeploymentStatus(actor: UserActor | ApiTokenActor, deploymentId: string) {
  if (!UUID.test(deploymentId)) throw notFound("Deployment");
  const d = await db.deployment.findUnique({
    where: { id: deploymentId },
    include: {
      environment: { select: { id: true, name: true, slug: true, applicationId: true } },
      release: { select: { id: true, version: true, artifactSha256: true } },
      steps: {
        orderBy: [{ batch: "asc" }, { createdAt: "asc" }, { target: { name: "asc" } }],
        select: { action: true, status: true, batch: true, phase: true, message: true, progress: true, target: { select: { name: true } } },
      },
    },
  });
  if (!d || !can(actor, "application.view", d.environment.applicationId)) throw notFound("Deployment");
  const counts: Partial<Record<StepStatus, number>> = {};
  for (const s of d.steps) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return {
    deployment: {
      id: d.id,
      kind: d.kind,
      status: d.status,
      finished: FINISHED.has(d.status),
      applicationId: d.environment.applicationId,
      environment: { id: d.environment.id, name: d.environment.name, slug: d.environment.slug },
      // Null for a revert to the builds the servers ran before Releasegate (no release of this application).
      release: d.release ? { id: d.release.id, version: d.release.version, sha256: d.release.artifactSha256 } : null,
      reason: d.reason,
      failureReason: d.failureReason,
      cancelRequested: d.cancelRequestedAt !== null,
      requestedAt: d.createdAt.toISOString(),
      scheduledFor: d.scheduledFor?.toISOString() ?? null,
      startedAt: d.startedAt?.toISOString() ?? null,
      finishedAt: d.finishedAt?.toISOString() ?? null,
      steps: {
        total: d.steps.length,
        byStatus: counts,
        items: d.steps.map((s) => ({
          server: s.target.name,
          action: s.action,
          batch: s.batch,
          status: s.status,
          phase: s.phase,
          progress: s.progress,
          message: s.message,
        })),
      },
    },
  };
}
