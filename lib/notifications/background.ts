import "server-only";
import { log } from "../log";

// Side effects that run after a change has committed (emails, webhook deliveries) and must not hold up the person
// who made the change. They are tracked so tests and a graceful shutdown can wait for them; a failure is logged
// (webhook deliveries are retried from their rows; an email is not resent).
const inFlight = new Set<Promise<unknown>>();

export function runInBackground(what: string, work: () => Promise<unknown>): void {
  const p = work()
    .catch((err: unknown) => log.error({ err, what }, "background work failed"))
    .finally(() => inFlight.delete(p));
  inFlight.add(p);
}

/** Resolves once every side effect started so far has finished. */
export async function settleBackgroundWork(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

/**
 * Runs a notification step after a committed change. The change stands whatever happens here, so a failure is
 * logged rather than reported to the person as if their action had failed.
 */
export async function afterCommit(what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    log.error({ err, what }, "notifying after a committed change failed");
  }
}
