import "server-only";
import type { ApiTokenActor, UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import type { StepStatus } from "../db/generated/enums";
import { notFound } from "../errors";
import { armWakeup, CHANNELS, recheckAfterMs } from "../events/wakeups";

const FINISHED = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How long one request may wait for a deployment to end: under the 60 s after which common proxies and load
 * balancers cut an idle response. A pipeline that needs longer asks again.
 */
export const MAX_WAIT_SECONDS = 50;

export interface StatusWait {
  /** Hold the answer until the deployment has finished, at most this long (0: answer at once). */
  waitSeconds?: number;
  /** The client went away: stop waiting. */
  signal?: AbortSignal;
}

/** Returns once the deployment has finished, `ms` have passed, or `signal` aborted, on any instance's change (NOTIFY). */
async function waitUntilFinished(deploymentId: string, ms: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + ms;
  while (!signal?.aborted) {
    // Armed before the read: a change committed between the read and the wait still wakes us.
    const wakeup = armWakeup(CHANNELS.deployment, deploymentId);
    const row = await db.deployment.findUnique({ where: { id: deploymentId }, select: { status: true } });
    const left = deadline - Date.now();
    if (!row || FINISHED.has(row.status) || left <= 0) {
      wakeup.cancel();
      return;
    }
    await wakeup.wait(recheckAfterMs(left), signal);
  }
}

/**
 * Where a deployment stands, for a pipeline: status, whether it is over, why it failed, and each server's step.
 * With `waitSeconds`, a long-poll: the answer comes when the deployment finishes (or when the wait is up, with the
 * status at that moment), so a CI job needs no polling loop. Visible to anyone who may view the application;
 * otherwise NOT_FOUND.
 */
export async function getDeploymentStatus(actor: UserActor | ApiTokenActor, deploymentId: string, wait: StatusWait = {}) {
  if (!UUID.test(deploymentId)) throw notFound("Deployment");
  if (wait.waitSeconds) {
    const visible = await db.deployment.findUnique({ where: { id: deploymentId }, select: { environment: { select: { applicationId: true } } } });
    if (!visible || !can(actor, "application.view", visible.environment.applicationId)) throw notFound("Deployment");
    await waitUntilFinished(deploymentId, Math.min(wait.waitSeconds, MAX_WAIT_SECONDS) * 1000, wait.signal);
  }
  const d = await db.deployment.findUnique({
    where: { id: deploymentId },
    include: {
      environment: { select: { id: true, name: true, slug: true, applicationId: true } },
      release: { select: { id: true, version: true, artifactSha256: true } },
      continuedBy: { select: { name: true } },
      steps: {
        orderBy: [{ batch: "asc" }, { createdAt: "asc" }, { target: { name: "asc" } }],
        select: { action: true, status: true, batch: true, phase: true, message: true, progress: true, target: { select: { name: true, site: { select: { name: true } } } } },
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
      // Paused after its first site, waiting for someone to continue it (the status stays RUNNING: the rollout holds
      // the environment). Null when it never paused.
      pause: d.pausedAt
        ? {
            waiting: d.continuedAt === null && d.status === "RUNNING" && d.cancelRequestedAt === null,
            afterSite: d.pausedAfterSite,
            pausedAt: d.pausedAt.toISOString(),
            continuedAt: d.continuedAt?.toISOString() ?? null,
            continuedBy: d.continuedBy?.name ?? null,
          }
        : null,
      requestedAt: d.createdAt.toISOString(),
      scheduledFor: d.scheduledFor?.toISOString() ?? null,
      startedAt: d.startedAt?.toISOString() ?? null,
      finishedAt: d.finishedAt?.toISOString() ?? null,
      steps: {
        total: d.steps.length,
        byStatus: counts,
        items: d.steps.map((s) => ({
          server: s.target.name,
          // The server's site now (null: none).
          site: s.target.site?.name ?? null,
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
