// The orderly end of a control-plane process (scripts/start.ts): what runs in the background is stopped before the
// database pool closes, and the pool closes before an embedded PostgreSQL stops, so that nothing is cut off mid-query
// and PostgreSQL logs no "terminating connection" for us.
//
// Kept on globalThis: the code Next bundles and the modules scripts/start.ts and server/ load are separate module
// instances of the same files, and both must reach one list.

type Stop = () => Promise<void> | void;

interface Registry {
  stopping: boolean;
  hooks: { name: string; stop: Stop }[];
}

const globalForShutdown = globalThis as unknown as { releasegateShutdown?: Registry };

function registry(): Registry {
  globalForShutdown.releasegateShutdown ??= { stopping: false, hooks: [] };
  return globalForShutdown.releasegateShutdown;
}

/** Background work (a timer, a listening connection) registers how to stop it; it is stopped before the pool closes. */
export function onShutdown(name: string, stop: Stop): void {
  registry().hooks.push({ name, stop });
}

/** Whether the process is shutting down: background work starts nothing new (a timer's tick, a reconnect). */
export function isShuttingDown(): boolean {
  return registry().stopping;
}

/** Stops all registered background work, newest first, each waiting for what it has in flight. Errors are returned, not thrown. */
export async function stopBackgroundWork(): Promise<{ name: string; error: unknown }[]> {
  const r = registry();
  r.stopping = true;
  const failures: { name: string; error: unknown }[] = [];
  for (const hook of [...r.hooks].reverse()) {
    try {
      await hook.stop();
    } catch (error) {
      failures.push({ name: hook.name, error });
    }
  }
  r.hooks = [];
  return failures;
}
