import { isShuttingDown, onShutdown } from "../shutdown";

/**
 * Runs `work` every `intervalMs` for as long as the process serves: a slow run is never overlapped by the next, the
 * timer does not keep the process alive, and at shutdown it stops and the run in flight is awaited (lib/shutdown.ts),
 * so none is cut off by the pool closing under it. Errors are handed to `onError`; the next tick tries again.
 */
export function runPeriodically(name: string, intervalMs: number, work: () => Promise<unknown>, onError: (err: unknown) => void): void {
  let inFlight: Promise<void> | null = null;
  const tick = () => {
    if (inFlight || isShuttingDown()) return;
    inFlight = work()
      .then(() => undefined, onError)
      .finally(() => (inFlight = null));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  onShutdown(name, async () => {
    clearInterval(timer);
    await inFlight;
  });
}
