import "server-only";
import pg from "pg";
import type { Tx } from "../db/client";
import { env } from "../env";
import { log } from "../log";
import { isShuttingDown, onShutdown } from "../shutdown";

// Wake-ups across control-plane instances. A state change NOTIFYs inside its transaction (PostgreSQL delivers the
// notification at commit, never for a rolled-back change); every instance LISTENs on one dedicated connection and
// wakes the long-polls and live views waiting on that key. Notifications are only a hint: waiters re-check the
// database on wake-up and at least every FALLBACK_POLL_MS, so a lost connection delays work but loses none.

export const CHANNELS = {
  /** Payload: a target id. New or re-offered work for that server's agent. */
  targetWork: "rg_target_work",
  /** Payload: a deployment id. Something about that deployment changed (live views). */
  deployment: "rg_deployment",
} as const;
export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

/** How often a waiter re-checks the database while the listener is down. While it is up, a notification cannot be
 * missed (the listener re-dispatches every key after a reconnect), so waiters sleep until notified or done: 2,000
 * idle agents then cost no queries at all between their polls. */
export const FALLBACK_POLL_MS = 5_000;

type Callback = () => void;

class Listener {
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private readonly subscribers = new Map<string, Set<Callback>>();

  subscribe(channel: Channel, key: string, callback: Callback): () => void {
    const k = `${channel}:${key}`;
    let set = this.subscribers.get(k);
    if (!set) this.subscribers.set(k, (set = new Set()));
    set.add(callback);
    void this.ensureConnected();
    return () => {
      set.delete(callback);
      if (set.size === 0) this.subscribers.delete(k);
    };
  }

  private dispatch(k: string): void {
    for (const cb of this.subscribers.get(k) ?? []) cb();
  }

  private ensureConnected(): Promise<void> {
    if (this.client || isShuttingDown()) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const url = env().DATABASE_URL;
    if (!url) return;
    const client = new pg.Client({ connectionString: url, application_name: "releasegate-listener" });
    client.on("notification", (msg) => msg.payload && this.dispatch(`${msg.channel}:${msg.payload}`));
    const lost = (err?: unknown) => {
      if (this.client !== client) return;
      this.client = null;
      log.warn({ err }, "wake-up listener lost its database connection; waiters fall back to polling until it is back");
      client.end().catch(() => undefined);
      if (isShuttingDown()) return;
      // Everyone re-checks at once: whatever was notified while we were away is found by the re-check.
      for (const k of this.subscribers.keys()) this.dispatch(k);
      setTimeout(() => void this.ensureConnected(), 1_000).unref();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    try {
      await client.connect();
      for (const channel of Object.values(CHANNELS)) await client.query(`LISTEN ${channel}`);
      this.client = client;
    } catch (err) {
      log.warn({ err }, "wake-up listener could not connect; retrying");
      client.end().catch(() => undefined);
      setTimeout(() => void this.ensureConnected(), 1_000).unref();
    }
  }

  /** Ends the LISTEN connection for good (shutdown): it is not re-opened. */
  async close(): Promise<void> {
    await this.connecting;
    const client = this.client;
    this.client = null;
    await client?.end();
  }

  /** Whether LISTEN is in place right now. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** Resolves once LISTEN is in place (tests and benchmarks wait for it before measuring). */
  async ready(): Promise<boolean> {
    await this.ensureConnected();
    return this.client !== null;
  }
}

const globalForListener = globalThis as unknown as { releasegateListener?: Listener };
function listener(): Listener {
  if (!globalForListener.releasegateListener) {
    const created = (globalForListener.releasegateListener = new Listener());
    onShutdown("wake-up listener", () => created.close());
  }
  return globalForListener.releasegateListener;
}

/** Calls `callback` whenever `key` is notified on `channel` (and after the listener reconnects). */
export function subscribe(channel: Channel, key: string, callback: Callback): () => void {
  return listener().subscribe(channel, key, callback);
}

export function listenerReady(): Promise<boolean> {
  return listener().ready();
}

/** How long a waiter may sleep before re-checking the database itself (see FALLBACK_POLL_MS). */
export function recheckAfterMs(wanted: number): number {
  return listener().connected ? wanted : Math.min(wanted, FALLBACK_POLL_MS);
}

/**
 * A wake-up armed BEFORE the caller checks the database, so a notification that lands between the check and the
 * wait is not lost. `wait` resolves on a notification, after `ms`, or when `signal` aborts.
 */
export function armWakeup(channel: Channel, key: string): { wait(ms: number, signal?: AbortSignal): Promise<void>; cancel(): void } {
  let fired = false;
  let wake: (() => void) | null = null;
  const unsubscribe = subscribe(channel, key, () => {
    fired = true;
    wake?.();
  });
  return {
    wait(ms, signal) {
      return new Promise<void>((resolve) => {
        if (fired || signal?.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          wake = null;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done, { once: true });
        wake = done;
      }).finally(unsubscribe);
    },
    cancel: unsubscribe,
  };
}

/**
 * Queues notifications in the caller's transaction, one per key (one statement however many): delivered to every
 * instance if and when it commits.
 */
export async function notifyInTransaction(tx: Tx, channel: Channel, ...keys: string[]): Promise<void> {
  const unique = [...new Set(keys)];
  if (unique.length === 1) await tx.$executeRaw`SELECT pg_notify(${channel}, ${unique[0]})`;
  else if (unique.length > 1) await tx.$executeRaw`SELECT pg_notify(${channel}, k) FROM unnest(${unique}::text[]) AS k`;
}
