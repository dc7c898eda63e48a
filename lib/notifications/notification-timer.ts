import "server-only";
import { db } from "../db/client";
import { log } from "../log";
import { runPeriodically } from "../util/periodic";
import { deliverDueWebhooks, holdWebhookDeliveries, releaseWebhookDeliveries } from "./deliver-webhooks";
import { onDeploymentFinished } from "./on-deployment-finished";

const INTERVAL_MS = 5_000;
/** On start, deployments that started or ended this recently are checked for notifications still owed. */
const CATCH_UP_WINDOW_MS = 10 * 60_000;
const DEPLOYMENT_EVENTS = ["DEPLOYMENT_STARTED", "DEPLOYMENT_PAUSED", "DEPLOYMENT_SUCCEEDED", "DEPLOYMENT_FAILED", "DEPLOYMENT_CANCELLED"];

let cursor: bigint | null = null;

/**
 * Publishes what deployments owe (onDeploymentFinished is idempotent) for every deployment whose audit record shows
 * a start or an end since the last call. The audit chain is the outbox: its events commit with the state change and
 * are numbered in commit order (the chain lock is held until commit), so a cursor on `seq` misses none, whether or
 * not the engine's own call after the commit happened. Returns the deployments looked at.
 */
export async function catchUpDeploymentNotifications(): Promise<number> {
  const events = await db.auditEvent.findMany({
    where: { type: { in: DEPLOYMENT_EVENTS }, ...(cursor === null ? { occurredAt: { gt: new Date(Date.now() - CATCH_UP_WINDOW_MS) } } : { seq: { gt: cursor } }) },
    orderBy: { seq: "asc" },
    take: 500,
    select: { seq: true, objectId: true },
  });
  const ids = [...new Set(events.map((e) => e.objectId).filter((id): id is string => id !== null))];
  for (const id of ids) await onDeploymentFinished(id);
  const last = events.at(-1);
  if (last) cursor = last.seq;
  return ids.length;
}

const globalForTimer = globalThis as unknown as { releasegateNotificationTimerStarted?: boolean };

/**
 * Starts, once per process (server/lifecycle.ts), the loop that sends due webhook deliveries (first attempts and
 * retries with backoff) and catches up on deployment notifications. Runs never overlap; the timer does not keep the
 * process alive.
 */
export function startNotificationTimer(): void {
  if (globalForTimer.releasegateNotificationTimerStarted) return;
  globalForTimer.releasegateNotificationTimerStarted = true;
  // Until the first catch-up has run, events this process publishes wait: the catch-up may find earlier events a
  // previous run committed but never published, and those must go out first (deliver-webhooks.ts).
  holdWebhookDeliveries();
  runPeriodically(
    "notifications",
    INTERVAL_MS,
    async () => {
      await catchUpDeploymentNotifications();
      releaseWebhookDeliveries();
      await deliverDueWebhooks();
    },
    (err) => log.error({ err }, "notification sweep failed; retrying on the next tick"),
  );
}
