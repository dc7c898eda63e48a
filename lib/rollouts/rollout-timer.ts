import "server-only";
import { log } from "../log";
import { sweepRollouts } from "./sweep-rollouts";

/** How often each instance sweeps: bounds how late a lost wake-up or an expired lease is noticed. */
export const SWEEP_INTERVAL_MS = 2_000;

/** Runs the rollout sweep on this instance for as long as it serves (every instance runs one; see sweep-rollouts.ts). */
export function startRolloutTimer(): void {
  let running = false;
  const tick = async () => {
    if (running) return; // a slow sweep is never overlapped by the next
    running = true;
    try {
      const r = await sweepRollouts();
      if (r.reoffered || r.interrupted || r.failedOffline || r.started) log.info(r, "rollout sweep");
    } catch (err) {
      log.error({ err }, "rollout sweep failed; retrying on the next tick");
    } finally {
      running = false;
    }
  };
  setInterval(() => void tick(), SWEEP_INTERVAL_MS).unref();
}
