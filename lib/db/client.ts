// The one database pool of the process, with the one Prisma client on top, cached on globalThis so Next's dev reloads
// do not open a pool each time (and so the domain code that scripts/start.ts loads outside Next's bundle shares
// them). Created on first use, not at import: `next build` imports route modules without a database.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { env } from "../env";
import { log } from "../log";
import { PrismaClient } from "./generated/client";

interface Database {
  pool: pg.Pool;
  prisma: PrismaClient;
  /** The pool's connections whose socket is still open (see closeDatabase). */
  connections: Set<pg.Client>;
}

function createDatabase(): Database {
  const url = env().DATABASE_URL;
  if (!url) {
    throw new Error("DATABASE_URL is not set. Start the control plane with `npm start`, which provides one.");
  }
  // allowExitOnIdle: scripts and tests end when their work does, without closing the pool themselves.
  const pool = new pg.Pool({ connectionString: url, max: 10, allowExitOnIdle: true });
  // An idle connection can die (database restart, failover, an administrator's terminate): the pool drops it and
  // opens another on the next query. Without a listener the 'error' event would end the process.
  pool.on("error", (err) => log.warn({ err }, "an idle database connection was closed by the server; the pool replaces it"));
  const connections = new Set<pg.Client>();
  pool.on("connect", (client) => {
    connections.add(client);
    client.once("end", () => connections.delete(client));
  });
  // disposeExternalPool: db.$disconnect() ends the pool too, as it did when Prisma owned it.
  // Known upstream: inside a transaction Prisma 7.10's query interpreter fetches included relations concurrently on
  // the transaction's one connection, so pg 8 prints a DeprecationWarning ("already executing a query") once per
  // process. pg 8 queues those queries in order, so results are right; pg 9 will refuse them, which is why package.json
  // keeps pg at ^8 until prisma/orm#29979 (serialize queries on single-connection clients) lands.
  return { pool, prisma: new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) }), connections };
}

/** How long closeDatabase waits for the server to close the pool's connections. */
const CLOSE_WAIT_MS = 5_000;

const globalForDb = globalThis as unknown as { releasegateDatabase?: Database; releasegateDatabaseClosed?: boolean };

function database(): Database {
  if (globalForDb.releasegateDatabaseClosed) throw new Error("the database pool is closed: this process is shutting down");
  globalForDb.releasegateDatabase ??= createDatabase();
  return globalForDb.releasegateDatabase;
}

/**
 * Ends the pool once the queries in flight are done (scripts/start.ts, after the background work has stopped:
 * lib/shutdown.ts). Later queries fail at once instead of opening connections to a server about to stop.
 */
export async function closeDatabase(): Promise<void> {
  globalForDb.releasegateDatabaseClosed = true;
  const open = globalForDb.releasegateDatabase;
  globalForDb.releasegateDatabase = undefined;
  if (!open) return;
  await open.prisma.$disconnect();
  // Prisma ends the pool it was given (disposeExternalPool) only if it ever used it itself; the pool may have served
  // only the plain-SQL paths (sqlQuery, the audit export's COPY), so end it here in any case.
  if (!open.pool.ending) await open.pool.end();
  // pool.end() resolves once it has asked each connection to close, before PostgreSQL has ended their sessions. An
  // embedded PostgreSQL stopped right then still finds some and terminates them ("terminating connection due to
  // administrator command" in its log, an error on ours): wait until each socket has closed (bounded, so a server
  // that does not answer cannot hold the process). The timer must keep the process alive: with allowExitOnIdle the
  // closing sockets do not, and Node would exit in the middle of the shutdown, leaving PostgreSQL running.
  const closing = [...open.connections].map((client) => new Promise<void>((resolve) => client.once("end", () => resolve())));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closing), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
  clearTimeout(timer);
}

export const db: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, prop) {
    const c = database().prisma;
    const value: unknown = Reflect.get(c, prop, c);
    return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(c) : value;
  },
});

/**
 * Plain parameterized SQL on the same pool, for the few statements a fleet of agents runs hundreds of times a second
 * (authenticating an agent, recording a heartbeat, an empty long-poll's check: lib/agents/). There, Prisma's
 * per-query machinery cost about three times the CPU of the statement itself and four times the garbage, which a
 * fleet of thousands turned into a large share of a core and hundreds of MB of heap (docs/benchmarks.md, "Agent API
 * at scale"). Everything else goes through `db`. Never build `text` from input: pass values as $1, $2, ...
 */
export async function sqlQuery<Row extends Record<string, unknown>>(text: string, values: readonly unknown[]): Promise<Row[]> {
  const result = await database().pool.query<Row>(text, values as unknown[]);
  return result.rows;
}

/** A statement runner with sqlQuery's signature, bound to one connection (see sqlTransaction). */
export type SqlRunner = <Row extends Record<string, unknown>>(text: string, values: readonly unknown[]) => Promise<Row[]>;

/**
 * Several sqlQuery-style statements in one transaction on one pooled connection, for the one hot path that writes
 * (an agent claiming its job). Rolled back if `work` throws; a connection that failed is not returned to the pool.
 */
export async function sqlTransaction<T>(work: (query: SqlRunner) => Promise<T>): Promise<T> {
  const client = await database().pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(async (text, values) => (await client.query(text, values as unknown[])).rows);
    await client.query("COMMIT");
    return result;
  } catch (e) {
    await client.query("ROLLBACK").catch((err: Error) => (broken = err));
    throw e;
  } finally {
    client.release(broken);
  }
}

/**
 * The pg pool under `db`, for reads Prisma cannot stream: the audit export's COPY (lib/audit/export-audit-events.ts).
 * Same connections, same limits; a connection borrowed from it must be released, destroyed when left mid-query.
 */
export function pgPool(): pg.Pool {
  return database().pool;
}

export type Db = PrismaClient;
/** The client handed to a function running inside `db.$transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
