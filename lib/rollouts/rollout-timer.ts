import "server-only";
import { log } from "../log";
import { runPeriodically } from "../util/periodic";
import { sweepRollouts } from "./sweep-rollouts";

/** How often each instance sweeps: bounds how late a lost wake-up or an expired lease is noticed. */
export const SWEEP_INTERVAL_MS = 2_000;

/** Runs the rollout sweep on this instance for as long as it serves (every instance runs one; see sweep-rollouts.ts). */
export function startRolloutTimer(): void {
  runPeriodically(
    "rollout sweep",
    SWEEP_INTERVAL_MS,
    async () => {
      const r = await sweepRollouts();
      if (r.reoffered || r.interrupted || r.failedOffline || r.started) log.info(r, "rollout sweep");
    },
    (err) => log.error({ err }, "rollout sweep failed; retrying on the next tick"),
  );
}
