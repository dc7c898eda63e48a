// Shutting down (server/lifecycle.ts): the pool closes, then an embedded PostgreSQL stops. When closeDatabase
// resolves, PostgreSQL must already have ended every session of the pool; one left open is terminated by the stop,
// which PostgreSQL logs as "terminating connection due to administrator command" and our side as an error.
// A file of its own: it closes the process's one pool for good.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { expect, it } from "vitest";
import { closeDatabase, sqlQuery } from "./client";

it("resolves only once PostgreSQL has ended every session of the pool", async () => {
  // Ten connections of the pool, held at once so they are distinct.
  const held = await Promise.all(Array.from({ length: 10 }, () => sqlQuery<{ pid: number }>("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)", [])));
  const pids = [...new Set(held.map(([row]) => row!.pid))];
  expect(pids).toHaveLength(10);
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  try {
    await closeDatabase();
    const { rows } = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])", [pids]);
    expect(rows).toEqual([]);
  } finally {
    await admin.end();
  }
});

it("keeps the process alive until it is done, though the pool lets an idle process exit (allowExitOnIdle)", async () => {
  // As scripts/start.ts shuts down: nothing but the closing pool left, then the next step (stopping PostgreSQL).
  const script = [
    `import { closeDatabase, sqlQuery } from ${JSON.stringify(path.join(import.meta.dirname, "client.ts"))};`,
    'await Promise.all(Array.from({ length: 10 }, () => sqlQuery("SELECT pg_sleep(0.05)", [])));',
    "await closeDatabase();",
    'console.log("closed");',
  ].join("\n");
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", script], {
    env: { ...process.env, LOG_LEVEL: "silent" },
  });
  expect(stdout.trim()).toBe("closed");
});
