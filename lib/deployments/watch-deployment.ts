import "server-only";
import { z } from "zod";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import { db } from "../db/client";
import { notFound } from "../errors";
import { CHANNELS, FALLBACK_POLL_MS, subscribe } from "../events/wakeups";
import { deploymentFingerprint } from "./deployment-fingerprint";

export const ZWatchDeploymentRequestSchema = z.object({
  deploymentId: z.uuid(),
  /** The state the viewer already shows (deploymentFingerprint when its page was rendered): a change since is told at once. */
  since: z.string().max(200).optional(),
});

/** What a live view is told: something changed (read again), still here (keep-alive), or it ended (stop watching). */
export type DeploymentWatchEvent = "change" | "ping" | "end";

export interface WatchTiming {
  /** Changes within this window are told once: a rollout step can report several times a second. */
  debounceMs: number;
  /** A keep-alive when nothing happens, so proxies and the browser keep the connection open. */
  pingMs: number;
  /** How often the database is checked for changes a lost notification did not announce. */
  pollMs: number;
}

export const DEFAULT_WATCH_TIMING: WatchTiming = { debounceMs: 250, pingMs: 15_000, pollMs: FALLBACK_POLL_MS };

/**
 * Follows a deployment for a live view: yields "change" (debounced) whenever anything about it changes, on any
 * control-plane instance (LISTEN/NOTIFY through lib/events/wakeups.ts), "ping" when nothing happened for a while,
 * and "end" once it has finished, then returns. Notifications are a hint: the database is also checked every
 * `pollMs`, so a missed one delays the view but never freezes it. Stops when `signal` aborts (the viewer left).
 * The access check happens before the first event, so a refused caller gets NOT_FOUND instead of a stream.
 */
export async function watchDeployment(
  actor: UserActor,
  raw: z.input<typeof ZWatchDeploymentRequestSchema>,
  signal: AbortSignal,
  timing: WatchTiming = DEFAULT_WATCH_TIMING,
): Promise<AsyncGenerator<DeploymentWatchEvent>> {
  const parsed = ZWatchDeploymentRequestSchema.safeParse(raw);
  if (!parsed.success) throw notFound("Deployment");
  const { deploymentId, since } = parsed.data;
  const d = await db.deployment.findUnique({ where: { id: deploymentId }, select: { environment: { select: { applicationId: true } } } });
  if (!d || !can(actor, "application.view", d.environment.applicationId)) throw notFound("Deployment");

  async function* events(): AsyncGenerator<DeploymentWatchEvent, void> {
    // Subscribed before the first state is read, so a change between the two is not lost.
    let notified = false;
    let wake: (() => void) | null = null;
    const unsubscribe = subscribe(CHANNELS.deployment, deploymentId, () => {
      notified = true;
      wake?.();
    });
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = null;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener("abort", done, { once: true });
        wake = done;
      });
    const waitFor = (ms: number) => (notified ? Promise.resolve() : sleep(ms));
    try {
      let seen = await deploymentFingerprint(deploymentId);
      // The page was rendered before this stream opened (or before a reconnect): catch up first.
      if (since !== undefined && since !== seen.key) yield "change";
      if (!seen.active) {
        yield "end";
        return;
      }
      let lastSent = Date.now();
      let lastPolled = Date.now();
      while (!signal.aborted) {
        await waitFor(Math.min(timing.pollMs - (Date.now() - lastPolled), timing.pingMs - (Date.now() - lastSent)));
        if (signal.aborted) return;
        let changed: boolean = notified;
        if (notified) {
          // Let a burst settle; notifications arriving meanwhile are covered by the one change told below.
          await new Promise((resolve) => setTimeout(resolve, timing.debounceMs));
          notified = false;
        }
        if (changed || Date.now() - lastPolled >= timing.pollMs) {
          const now = await deploymentFingerprint(deploymentId);
          lastPolled = Date.now();
          changed ||= now.key !== seen.key;
          seen = now;
        }
        if (signal.aborted) return;
        if (changed) {
          yield "change";
          lastSent = Date.now();
          if (!seen.active) {
            yield "end";
            return;
          }
        } else if (Date.now() - lastSent >= timing.pingMs) {
          yield "ping";
          lastSent = Date.now();
        }
      }
    } finally {
      unsubscribe();
    }
  }
  return events();
}
