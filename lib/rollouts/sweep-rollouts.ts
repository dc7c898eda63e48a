import "server-only";
import { finishStep } from "../agents/finish-step";
import { OFFLINE_AFTER_MS } from "../agents/heartbeat-timing";
import { systemActor } from "../auth/actor";
import { db } from "../db/client";
import { CHANNELS } from "../events/wakeups";
import { runInBackground } from "../notifications/background";
import { onDeploymentFinished } from "../notifications/on-deployment-finished";
import { advanceRollout } from "./advance-rollout";
import { startScheduledDeployment } from "./start-scheduled-deployment";

/** An agent that claims a job this many times without ever starting it is broken; the step fails. */
const MAX_UNACKNOWLEDGED_CLAIMS = 5;

/**
 * The periodic half of the rollout engine, run by every instance (they split the rows with SKIP LOCKED):
 * re-offers claims that were never acknowledged, interrupts steps whose lease ran out, fails steps waiting on a
 * server that went offline, starts scheduled deployments that are due (or refuses them when a gate no longer holds),
 * and advances every active deployment so a report lost between commit and advance (a crash, a restart) is picked
 * up within one sweep.
 */
export async function sweepRollouts(now = new Date()): Promise<{ reoffered: number; interrupted: number; failedOffline: number; started: number; advanced: number }> {
  const engine = systemActor("rollout engine");
  const touched = new Set<string>();

  const reoffered = await db.$queryRaw<{ targetId: string }[]>`
    UPDATE "DeploymentStep" SET status = 'PENDING', "leaseId" = NULL, "leaseExpiresAt" = NULL, "updatedAt" = now()
    WHERE id IN (SELECT id FROM "DeploymentStep" WHERE status = 'CLAIMED' AND "leaseExpiresAt" < ${now}
                 AND attempt < ${MAX_UNACKNOWLEDGED_CLAIMS} FOR UPDATE SKIP LOCKED)
    RETURNING "targetId"`;
  for (const targetId of new Set(reoffered.map((r) => r.targetId))) await db.$executeRaw`SELECT pg_notify(${CHANNELS.targetWork}, ${targetId})`;

  const end = async (ids: { id: string }[], message: (id: string) => Promise<string>, status: "INTERRUPTED" | "FAILED") => {
    let n = 0;
    for (const { id } of ids) {
      const why = await message(id);
      const deploymentId = await db.$transaction(async (tx) => {
        const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "DeploymentStep" WHERE id = ${id}::uuid FOR UPDATE SKIP LOCKED`;
        return locked.length ? finishStep(tx, engine, id, { status, message: why }) : null;
      });
      if (deploymentId) {
        touched.add(deploymentId);
        n++;
      }
    }
    return n;
  };

  const expired = await db.deploymentStep.findMany({
    where: { OR: [{ status: "RUNNING", leaseExpiresAt: { lt: now } }, { status: "CLAIMED", leaseExpiresAt: { lt: now }, attempt: { gte: MAX_UNACKNOWLEDGED_CLAIMS } }] },
    select: { id: true, status: true },
  });
  const interrupted = await end(
    expired,
    async (id) =>
      expired.find((s) => s.id === id)?.status === "CLAIMED"
        ? `The agent claimed this job ${MAX_UNACKNOWLEDGED_CLAIMS} times without starting it.`
        : "The agent stopped reporting (its lease expired); the node's state is unknown until it is back.",
    "INTERRUPTED",
  );

  const offlineSince = new Date(now.getTime() - OFFLINE_AFTER_MS);
  const stranded = await db.deploymentStep.findMany({
    where: {
      status: "PENDING",
      createdAt: { lt: offlineSince },
      // A revoked server's steps are ended by the planner (skipped: it left the rollout); a rotated one that has
      // not enrolled again, or an agent gone silent, strands its step.
      target: { OR: [{ status: "PENDING" }, { status: "ACTIVE", lastSeenAt: null }, { status: "ACTIVE", lastSeenAt: { lt: offlineSince } }] },
    },
    select: { id: true, target: { select: { name: true, status: true } } },
  });
  const failedOffline = await end(
    stranded,
    async (id) => {
      const t = stranded.find((s) => s.id === id)!.target;
      return t.status === "ACTIVE" ? `${t.name} went offline before it picked up this step.` : `${t.name}'s agent credential was rotated and it has not enrolled again.`;
    },
    "FAILED",
  );

  // Scheduled deployments that are due start only if the gates still hold (start-scheduled-deployment.ts).
  const due = await db.deployment.findMany({ where: { status: "SCHEDULED", scheduledFor: { lte: now } }, select: { id: true } });
  let started = 0;
  for (const { id } of due) {
    const outcome = await startScheduledDeployment(id, now);
    if (outcome === "QUEUED") {
      touched.add(id);
      started++;
    }
    // Nobody watches a deployment that was refused at its time: the people concerned are told why.
    if (outcome === "FAILED") runInBackground("deployment notifications", () => onDeploymentFinished(id));
  }

  const active = await db.deployment.findMany({ where: { status: { in: ["QUEUED", "RUNNING", "ROLLING_BACK"] } }, select: { id: true } });
  for (const d of active) touched.add(d.id);
  for (const id of touched) await advanceRollout(id);
  return { reoffered: reoffered.length, interrupted, failedOffline, started, advanced: touched.size };
}
