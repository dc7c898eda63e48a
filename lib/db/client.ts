// The one Prisma client of the process, cached on globalThis so Next's dev reloads do not open a pool each time.
// It is created on first use, not at import: `next build` imports route modules without a database.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { env } from "../env";
import { PrismaClient } from "./generated/client";

interface Clients {
  prisma: PrismaClient;
  pool: pg.Pool;
}

function createClients(): Clients {
  const url = env().DATABASE_URL;
  if (!url) {
    throw new Error("DATABASE_URL is not set. Start the control plane with `npm start`, which provides one.");
  }
  // Prisma queries through this pool; pgPool() lends its connections for what Prisma cannot do (streaming COPY).
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return { prisma: new PrismaClient({ adapter }), pool };
}

const globalForPrisma = globalThis as unknown as { releasegatePrisma?: PrismaClient; releasegatePgPool?: pg.Pool };

function client(): PrismaClient {
  if (!globalForPrisma.releasegatePrisma) {
    const { prisma, pool } = createClients();
    globalForPrisma.releasegatePrisma = prisma;
    globalForPrisma.releasegatePgPool = pool;
  }
  return globalForPrisma.releasegatePrisma;
}

export const db: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, prop) {
    const c = client();
    const value: unknown = Reflect.get(c, prop, c);
    return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(c) : value;
  },
});

/**
 * The pg pool under `db`, for reads Prisma cannot stream: the audit export's COPY (lib/audit/export-audit-events.ts).
 * Same connections, same limits; a connection borrowed from it must be released, destroyed when left mid-query.
 */
export function pgPool(): pg.Pool {
  client();
  const pool = globalForPrisma.releasegatePgPool;
  if (!pool) throw new Error("the Prisma client was provided without its pg pool (set globalThis.releasegatePgPool too)");
  return pool;
}

export type Db = PrismaClient;
/** The client handed to a function running inside `db.$transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
