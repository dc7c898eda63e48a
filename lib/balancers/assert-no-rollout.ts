import "server-only";
import type { Tx } from "../db/client";
import { conflict } from "../errors";
import { findRunningRollout } from "../deployments/find-running-rollout";
import { releaseLabel } from "../deployments/release-label";

/**
 * Balancers and memberships are what a rollout drains and undrains: changing them under a running rollout could
 * leave a server out of a balancer that its rollback no longer knows about. Call with the environment row locked
 * (lockEnvironment), as deployment requests do, so a rollout cannot start in between.
 */
export async function assertNoRolloutRunning(tx: Tx, environmentId: string, environmentName: string): Promise<void> {
  const running = await findRunningRollout(tx, environmentId);
  if (running) {
    throw conflict(
      `A deployment of ${releaseLabel(running.release)} to ${environmentName} is in progress and may have servers out of their balancers. Change the balancers once it has ended.`,
    );
  }
}
