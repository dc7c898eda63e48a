// Test databases. Tests never touch the database DATABASE_URL names: they create and drop their own databases
// (releasegate_test_*) on that server, or, when DATABASE_URL is unset, on an embedded PostgreSQL in a temporary
// directory that is thrown away afterwards.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../lib/db/embedded";

export interface TestServer {
  /** Connection string of a fresh, empty database named `name` on the test server. */
  createDatabase: (name: string) => Promise<string>;
  dropDatabase: (name: string) => Promise<void>;
  stop: () => Promise<void>;
  description: string;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function drop(adminUrl: string, name: string): Promise<void> {
  if (!/^releasegate_test_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop database ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function recreate(adminUrl: string, name: string): Promise<void> {
  if (!/^releasegate_test_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to recreate database ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

export async function startTestServer(): Promise<TestServer> {
  const given = process.env.DATABASE_URL;
  if (given) {
    const admin = withDatabase(given, "postgres");
    return {
      description: `PostgreSQL from DATABASE_URL (${new URL(given).host})`,
      createDatabase: async (name) => {
        await recreate(admin, name);
        return withDatabase(given, name);
      },
      dropDatabase: (name) => drop(admin, name),
      stop: async () => undefined,
    };
  }
  // Under the system temp dir so that, when running as root, the `postgres` user can reach it.
  const dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-test-"));
  const embedded = await startEmbeddedPostgres({ dataDir: dir, database: "postgres", port: 0 });
  return {
    description: `embedded PostgreSQL (port ${embedded.port}, ${dir})`,
    createDatabase: async (name) => {
      await recreate(embedded.url, name);
      return withDatabase(embedded.url, name);
    },
    dropDatabase: (name) => drop(embedded.url, name),
    stop: async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
