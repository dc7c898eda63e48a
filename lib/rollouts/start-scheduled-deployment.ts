import "server-only";
import { recordAuditEvent } from "../audit/record-audit-event";
import { systemActor } from "../auth/actor";
import { db } from "../db/client";
import { scheduledDeploymentBlockers } from "../deployments/scheduled-deployment-blockers";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import { releaseLabel } from "../deployments/release-label";

/**
 * Starts a scheduled deployment whose time has come, after checking the lifecycle gates again as they stand now:
 * scheduling checked them for the chosen time, but a release can be rejected, a freeze planned or a role taken away
 * in between. A deployment that no longer passes ends FAILED before it touched any server, with the gates' own
 * words as its reason and a DEPLOYMENT_FAILED audit event in the same transaction; one that passes becomes QUEUED
 * for the engine (advanceRollout then records its start). Returns the outcome, or null when there was nothing to
 * start (not due, no longer scheduled, or another instance holds it: SKIP LOCKED lets every instance sweep).
 */
export async function startScheduledDeployment(deploymentId: string, now = new Date()): Promise<"QUEUED" | "FAILED" | null> {
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "Deployment" WHERE id = ${deploymentId}::uuid AND status = 'SCHEDULED' AND "scheduledFor" <= ${now}
      FOR UPDATE SKIP LOCKED`;
    if (locked.length === 0) return null;
    const d = await tx.deployment.findUniqueOrThrow({
      where: { id: deploymentId },
      include: { release: { select: { version: true, artifactSha256: true } }, environment: { include: { application: true } } },
    });
    const blockers = await scheduledDeploymentBlockers(tx, d, now);
    if (blockers.length === 0) {
      await tx.deployment.update({ where: { id: d.id }, data: { status: "QUEUED" } });
      return "QUEUED";
    }
    const failureReason = `At its scheduled time the gates no longer held: ${blockers.map((b) => b.message).join(" ")} No server was changed.`;
    await tx.deployment.update({ where: { id: d.id }, data: { status: "FAILED", finishedAt: now, failureReason } });
    await recordAuditEvent(tx, systemActor("rollout engine"), {
      type: "DEPLOYMENT_FAILED",
      object: { type: "Deployment", id: d.id },
      scope: { customerId: d.environment.application.customerId, applicationId: d.environment.applicationId, environmentId: d.environmentId, releaseId: d.releaseId },
      summary: `scheduled deployment of ${releaseLabel(d.release)} to ${d.environment.application.name} / ${d.environment.name} did not start: ${blockers.map((b) => b.message).join(" ")}`,
      before: { status: "SCHEDULED", scheduledFor: d.scheduledFor?.toISOString() ?? null },
      after: { status: "FAILED", artifactSha256: d.release?.artifactSha256 ?? null, failureReason, blockers: blockers.map((b) => b.code) },
    });
    await notifyInTransaction(tx, CHANNELS.deployment, d.id);
    return "FAILED";
  });
}
