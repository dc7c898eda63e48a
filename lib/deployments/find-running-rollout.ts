import "server-only";
import type { Tx } from "../db/client";

/**
 * The deployment whose rollout is under way in an environment (queued, running or rolling back), if any: what
 * changes to the fleet it walks (balancers, sites) must wait for. Call with the environment locked (lockEnvironment).
 */
export function findRunningRollout(tx: Tx, environmentId: string) {
  return tx.deployment.findFirst({
    where: { environmentId, status: { in: ["QUEUED", "RUNNING", "ROLLING_BACK"] } },
    include: { release: { select: { version: true } } },
  });
}
