// Throwaway databases for tests that need an empty one (migrations, schema checks). They are created next to the
// integration database, on the server process.env.DATABASE_URL points at (set by test/global-setup.ts), and named
// releasegate_test_<purpose>_<random> so that nothing else is ever created or dropped.
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface ScratchDatabase {
  name: string;
  url: string;
  /** Runs SQL on the scratch database (one short-lived connection). */
  query: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;
  drop: () => Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function onMaintenanceDb<T>(serverUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, "postgres") });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function createScratchDatabase(purpose: string): Promise<ScratchDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error("DATABASE_URL is not set: run through vitest's integration project (test/global-setup.ts)");
  const name = `releasegate_test_${purpose}_${randomBytes(6).toString("hex")}`;
  // INVARIANT: only ever create or drop databases named releasegate_test_*.
  if (!/^releasegate_test_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to use database name ${name}`);
  await onMaintenanceDb(serverUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(serverUrl, name);
  return {
    name,
    url,
    query: async (sql, params) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    drop: () => onMaintenanceDb(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
