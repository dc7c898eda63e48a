// The one pool survives the database closing its idle connections (a restart, a failover, pg_terminate_backend):
// the process does not die on the pool's 'error' event, and the next query gets a fresh connection.
import pg from "pg";
import { expect, it } from "vitest";
import { db, sqlQuery } from "./client";

it("keeps serving after the database terminates its idle connections", async () => {
  // Three connections of this process's pool, by their backend pids (held at once, so they are distinct).
  const held = await Promise.all([1, 2, 3].map(() => sqlQuery<{ pid: number }>("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)", [])));
  const pids = [...new Set(held.map(([row]) => row!.pid))];
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ ok: boolean }>("SELECT pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) AS pid", [pids]);
    expect(rows.every((r) => r.ok)).toBe(true);
  } finally {
    await admin.end();
  }
  await new Promise((r) => setTimeout(r, 200)); // the idle connections learn they were closed
  for (let i = 0; i < 5; i++) expect(await sqlQuery<{ one: number }>("SELECT 1 AS one", [])).toEqual([{ one: 1 }]);
  expect(await db.user.count()).toBeGreaterThanOrEqual(0);
});
