import "server-only";
import { recordAuditEvent } from "../audit/record-audit-event";
import { systemActor } from "../auth/actor";
import { db, type Tx } from "../db/client";
import { CHANNELS, notifyInTransaction } from "../events/wakeups";
import { log } from "../log";
import { runInBackground } from "../notifications/background";
import { onDeploymentFinished } from "../notifications/on-deployment-finished";
import { finishStep } from "../agents/finish-step";
import { recordProductionOutcome } from "../releases/record-production-outcome";
import { type PlanAction, type PlanInput, planRollout, siteWords } from "./planner";
import { releaseLabel } from "../deployments/release-label";

const ENGINE = "rollout engine";
/** A plan can take several consecutive actions (start, then create the first steps); more would mean a loop. */
const MAX_ROUNDS = 8;

/**
 * The reconciler around the pure planner: locks the deployment row, loads what its steps have done, asks
 * planRollout what happens next, applies it (with its audit events) and wakes the agents concerned, all in one
 * transaction. Idempotent and safe to call from anywhere at any time: after a request, after every step report,
 * and from the periodic sweep on every instance; the row lock makes concurrent calls take turns, and a call with
 * nothing to do changes nothing. Because all state lives in PostgreSQL, a restarted control plane simply continues.
 */
export async function advanceRollout(deploymentId: string): Promise<void> {
  const statusChanged = await db.$transaction((tx) => advanceRolloutInTransaction(tx, deploymentId));
  if (statusChanged) announceStatusChange(deploymentId);
}

/**
 * The same move inside the caller's transaction, for the request that creates a deployment: its commit then
 * records the request and queues the first jobs at once (one commit, one wake-up for the agents). Returns whether
 * the deployment's status changed; the caller calls announceStatusChange after its commit.
 */
export async function advanceRolloutInTransaction(tx: Tx, deploymentId: string): Promise<boolean> {
  let statusChanged = false;
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Deployment" WHERE id = ${deploymentId}::uuid FOR UPDATE`;
  if (locked.length === 0) return false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const input = await loadPlanInput(tx, deploymentId);
    const actions = planRollout(input.plan);
    if (actions.length === 0) return statusChanged;
    for (const action of actions) await apply(tx, input, action);
    // A pause is news too: whoever may continue the rollout is told (onDeploymentFinished).
    statusChanged ||= actions.some((a) => a.type === "setStatus" || a.type === "pause");
    await notifyInTransaction(tx, CHANNELS.deployment, deploymentId);
  }
  log.error({ deploymentId }, "rollout planner did not settle; the next sweep continues");
  return statusChanged;
}

/**
 * Started, succeeded, failed, reverted, ready for acceptance: told once each (the notifier keeps track), after the
 * change is committed, in the background: the agent whose report got us here is not kept waiting, and a failure to
 * tell people never fails the rollout.
 */
export function announceStatusChange(deploymentId: string): void {
  runInBackground("deployment notifications", () => onDeploymentFinished(deploymentId));
}

async function loadPlanInput(tx: Tx, deploymentId: string) {
  const d = await tx.deployment.findUniqueOrThrow({
    where: { id: deploymentId },
    include: {
      environment: { include: { application: true } },
      release: { select: { id: true, version: true, artifactSha256: true } },
      previousRelease: { select: { version: true } },
      steps: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] },
    },
  });
  const sites = await tx.site.findMany({ where: { environmentId: d.environmentId }, select: { id: true, name: true, position: true } });
  // The rollout covers the environment's enrolled servers, plus any it already touched (even if revoked since).
  const touched = new Set(d.steps.map((s) => s.targetId));
  const targets = (
    await tx.target.findMany({ where: { environmentId: d.environmentId }, orderBy: [{ name: "asc" }, { id: "asc" }] })
  ).filter((t) => t.status === "ACTIVE" || touched.has(t.id));
  const plan: PlanInput = {
    deployment: {
      status: d.status,
      strategy: d.strategy,
      batchSize: d.batchSize,
      autoRollback: d.environment.autoRollback,
      releaseId: d.releaseId,
      previousReleaseId: d.previousReleaseId,
      cancelRequested: d.cancelRequestedAt !== null,
      kind: d.kind,
      // The site settings as they were when it was requested: a change since cannot move its floor mid-rollout.
      siteOrder: d.siteOrder,
      siteFloor: d.siteFloor,
      pauseAfterFirstSite: d.pauseAfterFirstSite,
      siteSequence: d.siteSequence,
      paused: d.pausedAt !== null,
      continued: d.continuedAt !== null,
      failureReason: d.failureReason,
    },
    sites,
    targets: targets.map((t) => ({
      id: t.id,
      name: t.name,
      stagedReleaseIds: t.stagedReleaseIds,
      revoked: t.status === "REVOKED",
      siteId: t.siteId,
      // Its activation here recorded what it ran before (a release, or a build outside Releasegate).
      canReturn: d.steps.some((s) => s.targetId === t.id && s.action === "ACTIVATE" && (s.fromReleaseId !== null || s.fromPath !== null)),
    })),
    steps: d.steps.map((s) => ({ id: s.id, targetId: s.targetId, action: s.action, batch: s.batch, status: s.status, message: s.message })),
  };
  return { deployment: d, targets, plan };
}

type Loaded = Awaited<ReturnType<typeof loadPlanInput>>;

async function apply(tx: Tx, { deployment: d, targets }: Loaded, action: PlanAction): Promise<void> {
  switch (action.type) {
    case "createSteps": {
      // An activation records what its server runs now (its agent's last report, kept fresh by heartbeats after
      // every job): that, not the environment's history, is what a rollback of this server returns it to.
      const from = (targetId: string) => {
        const t = targets.find((x) => x.id === targetId);
        return { fromReleaseId: t?.liveReleaseId ?? null, fromPath: t?.currentKind === "foreign" ? t.currentPath : null };
      };
      await tx.deploymentStep.createMany({
        data: action.steps.map((s) => ({ deploymentId: d.id, targetId: s.targetId, action: s.action, batch: s.batch, ...(s.action === "ACTIVATE" ? from(s.targetId) : {}) })),
      });
      await notifyInTransaction(tx, CHANNELS.targetWork, ...action.steps.map((s) => s.targetId));
      return;
    }
    case "endSteps": {
      for (const s of action.steps) await finishStep(tx, systemActor(ENGINE), s.id, { status: s.status, message: s.message });
      return;
    }
    case "fixSiteSequence": {
      await tx.deployment.update({ where: { id: d.id }, data: { siteSequence: action.siteKeys } });
      return;
    }
    case "pause": {
      // Once per rollout: the planner asks only while pausedAt is unset, and this holds the deployment's row lock.
      const changed = await tx.deployment.updateMany({ where: { id: d.id, pausedAt: null }, data: { pausedAt: new Date(), pausedAfterSite: action.afterSite } });
      if (changed.count === 0) return;
      await recordAuditEvent(tx, systemActor(ENGINE), {
        type: "DEPLOYMENT_PAUSED",
        object: { type: "Deployment", id: d.id },
        scope: { customerId: d.environment.application.customerId, applicationId: d.environment.applicationId, environmentId: d.environmentId, releaseId: d.releaseId },
        summary: `deployment of ${releaseLabel(d.release)} to ${d.environment.application.name} / ${d.environment.name} paused after ${siteWords(action.afterSite)}: it goes on with ${siteWords(action.nextSite)} when someone continues it`,
        before: { paused: false },
        after: { paused: true, afterSite: action.afterSite, nextSite: action.nextSite, artifactSha256: d.release?.artifactSha256 ?? null },
      });
      return;
    }
    case "cancelSteps": {
      await tx.deploymentStep.updateMany({
        where: { id: { in: action.stepIds }, status: "PENDING" },
        data: { status: "CANCELLED", finishedAt: new Date(), message: "Not started: the deployment stopped." },
      });
      return;
    }
    case "setStatus": {
      const now = new Date();
      await tx.deployment.update({
        where: { id: d.id },
        data: {
          status: action.status,
          ...(action.status === "RUNNING" ? { startedAt: now } : {}),
          ...(["SUCCEEDED", "FAILED", "CANCELLED"].includes(action.status) ? { finishedAt: now } : {}),
          ...(action.failureReason !== undefined ? { failureReason: action.failureReason } : {}),
        },
      });
      // Release statuses follow what production runs; the success event below records the ones this changed.
      const releaseStatuses =
        action.status === "SUCCEEDED" && d.environment.isProduction
          ? await recordProductionOutcome(tx, { id: d.id, kind: d.kind, releaseId: d.releaseId, environmentId: d.environmentId, applicationId: d.environment.applicationId })
          : null;
      const type = (
        { RUNNING: "DEPLOYMENT_STARTED", ROLLING_BACK: "DEPLOYMENT_ROLLING_BACK", SUCCEEDED: "DEPLOYMENT_SUCCEEDED", FAILED: "DEPLOYMENT_FAILED", CANCELLED: "DEPLOYMENT_CANCELLED" } as const
      )[action.status as "RUNNING" | "ROLLING_BACK" | "SUCCEEDED" | "FAILED" | "CANCELLED"];
      if (!type) return;
      const what = d.kind === "REVERT" ? `revert of ${d.environment.application.name} / ${d.environment.name} to ${releaseLabel(d.release)}` : `deployment of ${releaseLabel(d.release)} to ${d.environment.application.name} / ${d.environment.name}`;
      const verb = { DEPLOYMENT_STARTED: "started", DEPLOYMENT_ROLLING_BACK: "is rolling back", DEPLOYMENT_SUCCEEDED: "succeeded", DEPLOYMENT_FAILED: "failed", DEPLOYMENT_CANCELLED: "was cancelled" }[type];
      await recordAuditEvent(tx, systemActor(ENGINE), {
        type,
        object: { type: "Deployment", id: d.id },
        scope: { customerId: d.environment.application.customerId, applicationId: d.environment.applicationId, environmentId: d.environmentId, releaseId: d.releaseId },
        summary: `${what} ${verb}${action.failureReason ? `: ${action.failureReason}` : ""}`,
        before: { status: d.status },
        after: {
          status: action.status,
          artifactSha256: d.release?.artifactSha256 ?? null,
          ...(action.failureReason ? { failureReason: action.failureReason } : {}),
          ...(releaseStatuses ? { releaseStatuses } : {}),
        },
      });
      return;
    }
  }
}
