import "server-only";
import { recordAuditEvent } from "../audit/record-audit-event";
import type { TAnalysisResult } from "../contracts/agent-api";
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
 * event, all in the caller's transaction; an activation's post-deploy analysis is kept on the step and is an audit
 * event of its own. Returns the deployment id to advance, or null when the step had already ended (nothing changed).
 * The caller checks the lease; this function only refuses to end a step twice.
 */
export async function finishStep(
  tx: Tx,
  actor: Actor,
  stepId: string,
  result: { status: FinalStepStatus; message?: string | null; analysis?: TAnalysisResult | null },
): Promise<string | null> {
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
    data: {
      status: result.status,
      finishedAt: new Date(),
      leaseExpiresAt: null,
      message: result.message ?? null,
      ...(result.status === "SUCCEEDED" ? { progress: 1 } : {}),
      ...(result.analysis ? { analysis: result.analysis } : {}),
    },
  });
  if (ended.count === 0) return null;
  const d = step.deployment;
  const { release, restorePath } = await stepInstalls(tx, step);
  if (result.status === "SUCCEEDED") {
    const staged = release ? [...new Set([...step.target.stagedReleaseIds, release.id])] : step.target.stagedReleaseIds;
    // What `current` is now, until the agent's next heartbeat says it itself (only for agents that report it).
    const reports = step.target.currentKind !== null;
    await tx.target.update({
      where: { id: step.targetId },
      data:
        step.action === "STAGE"
          ? { stagedReleaseIds: staged }
          : {
              liveReleaseId: release?.id ?? null,
              stagedReleaseIds: staged,
              ...(reports ? { currentKind: release ? "release" : "foreign", currentPath: restorePath, currentRevision: null } : {}),
              // Switched away from a build another tool installed: a revert past this release returns there.
              ...(step.action === "ACTIVATE" && step.fromPath ? { takenOverFromPath: step.fromPath } : {}),
            },
    });
  }
  const env = d.environment;
  const what = release ? release.version : `${restorePath ?? "an earlier build"} (installed outside Releasegate)`;
  await recordAuditEvent(tx, actor, {
    type: "DEPLOYMENT_STEP_FINISHED",
    object: { type: "DeploymentStep", id: step.id },
    scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id, releaseId: d.releaseId },
    summary: `${step.target.name} ${VERB[result.status][step.action]} ${what}${result.message ? `: ${result.message}` : ""}`,
    before: { status: step.status },
    after: {
      status: result.status,
      action: step.action,
      target: step.target.name,
      version: release?.version ?? null,
      artifactSha256: release?.artifactSha256 ?? null,
      ...(restorePath ? { restoredPath: restorePath } : {}),
      attempt: step.attempt,
      ...(result.message ? { message: result.message } : {}),
    },
    data: { deploymentId: d.id },
  });
  const a = result.analysis;
  if (a) {
    // The verdict on its own, with the figures that decided it, so the release's evidence lists each one.
    await recordAuditEvent(tx, actor, {
      type: ANALYSIS_EVENT[a.verdict],
      object: { type: "DeploymentStep", id: step.id },
      scope: { customerId: env.application.customerId, applicationId: env.applicationId, environmentId: env.id, releaseId: d.releaseId },
      summary: `${step.target.name}: ${a.summary}`,
      after: {
        verdict: a.verdict,
        judged: a.judged,
        tripped: a.tripped,
        target: step.target.name,
        version: release?.version ?? null,
        artifactSha256: release?.artifactSha256 ?? null,
        bakeSeconds: a.bakeSeconds,
        watchedSeconds: a.watchedSeconds,
        limits: a.limits,
        node: a.node,
        previous: a.previous,
      },
      data: { deploymentId: d.id },
    });
  }
  await notifyInTransaction(tx, CHANNELS.deployment, d.id);
  return d.id;
}

type Release = { id: string; version: string; artifactSha256: string };

const ANALYSIS_EVENT = { PASSED: "DEPLOYMENT_ANALYSIS_PASSED", FAILED: "DEPLOYMENT_ANALYSIS_FAILED", STOPPED: "DEPLOYMENT_ANALYSIS_STOPPED" } as const;

/**
 * What a step puts on its node (claim-job.ts hands out the same): a stage or an activation installs the deployment's
 * release; an activation of a revert past Releasegate's first release restores the build the node ran before
 * Releasegate (Target.takenOverFromPath); a rollback returns the node to what its activation replaced there (a
 * release, or a directory outside Releasegate), or else to the release the deployment replaced.
 */
export async function stepInstalls(
  tx: Tx,
  step: { deploymentId: string; targetId: string; action: "STAGE" | "ACTIVATE" | "ROLLBACK"; target: { takenOverFromPath: string | null }; deployment: { release: Release | null; previousRelease: Release | null } },
): Promise<{ release: Release | null; restorePath: string | null }> {
  const d = step.deployment;
  if (step.action === "STAGE") return { release: d.release, restorePath: null };
  if (step.action === "ACTIVATE") return d.release ? { release: d.release, restorePath: null } : { release: null, restorePath: step.target.takenOverFromPath };
  const activation = await tx.deploymentStep.findFirst({
    where: { deploymentId: step.deploymentId, targetId: step.targetId, action: "ACTIVATE" },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { fromPath: true, fromReleaseId: true },
  });
  if (activation?.fromPath) return { release: null, restorePath: activation.fromPath };
  const replaced = activation?.fromReleaseId ? await tx.release.findUnique({ where: { id: activation.fromReleaseId } }) : null;
  return { release: replaced ?? d.previousRelease, restorePath: null };
}
