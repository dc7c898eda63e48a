import "server-only";
import { ERRORS, type Lock, type Locker, type RequestRelease } from "@tus/server";
import pg from "pg";
import { env } from "../env";
import { log } from "../log";

// Exclusive access to one staged upload across every control-plane instance that shares the staging directory.
// tus needs it so that two requests can never append to the same file at once (a client that reconnects while its
// previous PATCH still hangs on another instance, say). @tus/server's MemoryLocker only sees one process, so the
// lock is a PostgreSQL session advisory lock instead, held on a connection of its own for as long as the request
// runs (a PATCH may run for minutes; a transaction-scoped lock would keep a transaction open that long).
//
// tus asks a lock holder to let go when someone else wants the upload (the reconnecting client must win over the
// stale request): a waiter NOTIFYs the upload's channel, and the holder, which LISTENs on it on the same connection
// that holds the lock, gets the request wherever it runs.

/** How long a request waits for an upload another request holds before it is refused (tus's default as well). */
const ACQUIRE_TIMEOUT_MS = 30_000;
const RETRY_MS = 100;
/** Connections held by running upload requests; a request beyond this waits for one (pg.Pool queues it). */
const MAX_HELD = 32;
/** Upload ids are @tus/server's random 32 hex digits; anything else never reaches the locker as a channel name. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

export class PostgresUploadLocker implements Locker {
  private pool: pg.Pool | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly options: { acquireTimeoutMs?: number } = {},
  ) {}

  newLock(id: string): Lock {
    return new PostgresUploadLock(this, id, this.options.acquireTimeoutMs ?? ACQUIRE_TIMEOUT_MS);
  }

  connections(): pg.Pool {
    this.pool ??= new pg.Pool({ connectionString: this.connectionString, max: MAX_HELD, idleTimeoutMillis: 30_000, application_name: "releasegate-upload-locks" }).on(
      "error",
      // An idle connection that breaks is dropped by the pool; a held one loses its lock with its session, and the
      // request holding it fails on its next write-through query (unlock) and is cleaned up there.
      (err) => log.warn({ err }, "upload lock connection failed"),
    );
    return this.pool;
  }

  async close(): Promise<void> {
    await this.pool?.end();
    this.pool = undefined;
  }
}

class PostgresUploadLock implements Lock {
  private held: { client: pg.PoolClient; onNotice: (m: pg.Notification) => void } | null = null;

  constructor(
    private readonly locker: PostgresUploadLocker,
    private readonly id: string,
    private readonly timeoutMs: number,
  ) {
    if (!UPLOAD_ID.test(id)) throw ERRORS.FILE_NOT_FOUND;
  }

  // Both are built from the validated hex id only, so they can be inlined into SQL: a lock and an unlock are then
  // one round trip each (a multi-statement simple query), which every tus request pays.
  private get key() {
    return `hashtextextended('tus-upload:${this.id}', 0)`;
  }

  private get channel() {
    return `rg_upload_${this.id}`;
  }

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const pool = this.locker.connections();
    const deadline = Date.now() + this.timeoutMs;
    let askedAt = 0;
    for (;;) {
      if (signal.aborted) throw ERRORS.ERR_LOCK_TIMEOUT;
      const client = await pool.connect();
      let acquired = false;
      try {
        // Listening before knowing whether the lock is ours costs nothing when it is (the usual case) and is undone
        // at once when it is not.
        const onNotice = (m: pg.Notification) => {
          if (m.channel === this.channel) void Promise.resolve(requestRelease()).catch(() => undefined);
        };
        client.on("notification", onNotice);
        const results = (await client.query(`LISTEN ${this.channel}; SELECT pg_try_advisory_lock(${this.key}) AS ok`)) as unknown as pg.QueryResult<{ ok: boolean }>[];
        acquired = results[1]?.rows[0]?.ok === true;
        if (acquired) {
          this.held = { client, onNotice };
          return;
        }
        client.off("notification", onNotice);
        await client.query(`UNLISTEN ${this.channel}`);
      } catch (e) {
        client.release(true);
        throw e;
      } finally {
        if (!acquired) client.release();
      }
      const now = Date.now();
      if (now > deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
      // Ask the holder to finish (at most once a second: it needs a moment to wind down its request).
      if (now - askedAt > 1_000) {
        askedAt = now;
        await pool.query("SELECT pg_notify($1, '')", [this.channel]);
      }
      await sleep(RETRY_MS, signal);
    }
  }

  async unlock(): Promise<void> {
    const held = this.held;
    if (!held) throw new Error("Releasing an unlocked upload lock");
    this.held = null;
    held.client.off("notification", held.onNotice);
    try {
      await held.client.query(`UNLISTEN ${this.channel}; SELECT pg_advisory_unlock(${this.key})`);
      held.client.release();
    } catch (err) {
      // Ending the session releases every advisory lock it holds: destroying the connection is the safe fallback.
      log.warn({ err, uploadId: this.id }, "could not release an upload lock cleanly; closing its connection");
      held.client.release(true);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

let locker: PostgresUploadLocker | undefined;

/** The process's locker, on the configured database. */
export function getUploadLocker(): PostgresUploadLocker {
  const url = env().DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: upload locks live in PostgreSQL.");
  locker ??= new PostgresUploadLocker(url);
  return locker;
}
