import "server-only";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { Actor } from "../auth/actor";
import type { Tx } from "../db/client";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";

export type FinalStepStatus = "SUCCEEDED" | "FAILED" | "CANCELLED" | "INTERRUPTED" | "SKIPPED";

const VERB: Record<FinalStepStatus, Record<"STAGE" | "ACTIVATE" | "ROLLBACK", string>> = {
  SUCCEEDED: { STAGE: "staged", ACTIVATE: "activated", ROLLBACK: "rolled back to" },
  FAILED: { STAGE: "failed to stage", ACTIVATE: "failed to activate", ROLLBACK: "failed to roll back to" },
  CANCELLED: { STAGE: "cancelled staging", ACTIVATE: "cancelled activating", ROLLBACK: "cancelled rolling back to" },
  INTERRUPTED: { STAGE: "was interrupted staging", ACTIVATE: "was interrupted activating", ROLLBACK: "was interrupted rolling back to" },
  SKIPPED: { STAGE: "skipped staging", ACTIVATE: "skipped activating", ROLLBACK: "skipped rolling back to" },
};

/**
 * Ends a step that has not ended yet: its final status, what the node now holds (a successful stage adds the build to
 * the node's staged list; a successful activation or rollback makes it the node's live release), and the audit
 * event, all in the caller's transaction. Returns the deployment id to advance, or null when the step had already
 * ended (nothing changed). The caller checks the lease; this function only refuses to end a step twice.
 */
export async function finishStep(tx: Tx, actor: Actor, stepId: string, result: { status: FinalStepStatus; message?: string | null }): Promise<string | null> {
  const step = await tx.deploymentStep.findUnique({
    where: { id: stepId },
    include: {
      target: true,
      deployment: { include: { release: true, previousRelease: true, environment: { include: { application: true } } } },
    },
  });
  if (!step) return null;
  // Conditional on the status so two reports (or a report racing the sweep) cannot both end the step.
  const ended = await tx.deploymentStep.updateMany({
    where: { id: stepId, status: { in: ["PENDING", "CLAIMED", "RUNNING"] } },
    data: { status: result.status, finishedAt: new Date(), leaseExpiresAt: null, message: result.message ?? null, ...(result.status === "SUCCEEDED" ? { progress: 1 } : {}) },
  });
  if (ended.count === 0) return null;
  const d = step.deployment;
  const release = step.action === "ROLLBACK" ? d.previousRelease! : d.release;
  if (result.status === "SUCCEEDED") {
    await tx.target.update({
      where: { id: step.targetId },
      data:
        step.action === "STAGE"
          ? { stagedReleaseIds: [...new Set([...step.target.stagedReleaseIds, release.id])] }
          : { liveReleaseId: release.id, stagedReleaseIds: [...new Set([...step.target.stagedReleaseIds, release.id])] },
    });
  }
  const env = d.environment;
  await recordAuditEvent(tx, actor, {
    type: "DEPLOYMENT_STEP_FINISHED",
    object: { type: "DeploymentStep", id: step.id },
    scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id, releaseId: d.releaseId },
    summary: `${step.target.name} ${VERB[result.status][step.action]} ${release.version}${result.message ? `: ${result.message}` : ""}`,
    before: { status: step.status },
    after: {
      status: result.status,
      action: step.action,
      target: step.target.name,
      version: release.version,
      artifactSha256: release.artifactSha256,
      attempt: step.attempt,
      ...(result.message ? { message: result.message } : {}),
    },
    data: { deploymentId: d.id },
  });
  await notifyInTransaction(tx, CHANNELS.deployment, d.id);
  return d.id;
}
