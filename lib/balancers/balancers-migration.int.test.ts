// The migration that made balancers objects carries every server's own load-balancer settings over: a database with
// servers set up the old way (one HAProxy socket or one pair of commands per server) drains the same servers on the
// same balancers after it.
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "../../test/scratch-database";
import { DEFAULT_MIGRATIONS_DIR, migrateDatabase } from "../db/migrate";

const MIGRATION = "20261207215453_balancers";
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

it("creates one balancer per runtime API address or command pair per environment, and a membership per server", async () => {
  const db: ScratchDatabase = await createScratchDatabase("balancers_migration");
  cleanups.push(() => db.drop());
  // The migrations up to the one before this, in a directory of their own.
  const before = await mkdtemp(path.join(os.tmpdir(), "rg-migrations-"));
  cleanups.push(() => rm(before, { recursive: true, force: true }));
  for (const name of (await readdir(DEFAULT_MIGRATIONS_DIR)).sort()) {
    if (name >= MIGRATION) break;
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, name), path.join(before, name), { recursive: true });
  }
  await migrateDatabase(db.url, { dir: before });

  await db.query(`INSERT INTO "Customer" (id, name, slug, "updatedAt") VALUES ('00000000-0000-4000-8000-000000000001', 'Acme', 'acme', now())`);
  await db.query(`INSERT INTO "Application" (id, "customerId", name, slug, "updatedAt") VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'Shop', 'shop', now())`);
  for (const [id, name, position] of [["00000000-0000-4000-8000-0000000000e1", "Production", 0], ["00000000-0000-4000-8000-0000000000e2", "QA", 1]] as const) {
    await db.query(`INSERT INTO "Environment" (id, "applicationId", name, slug, position, "updatedAt") VALUES ($1, '00000000-0000-4000-8000-000000000002', $2, lower($2), $3, now())`, [id, name, position]);
  }
  const target = (id: string, env: string, name: string, lb: string) =>
    db.query(`INSERT INTO "Target" (id, "environmentId", name, "updatedAt", ${lb === "" ? "" : `"lbKind", "lbAddress", "lbBackend", "lbServer", "drainCommand", "undrainCommand", `}"createdAt") VALUES ($1, $2, $3, now(), ${lb === "" ? "" : `${lb}, `}now())`, [id, env, name]);
  const P = "00000000-0000-4000-8000-0000000000e1";
  const Q = "00000000-0000-4000-8000-0000000000e2";
  await target("00000000-0000-4000-8000-000000000011", P, "web-1", `'HAPROXY', '/run/haproxy/a.sock', 'be_web', 'w1', NULL, NULL`);
  await target("00000000-0000-4000-8000-000000000012", P, "web-2", `'HAPROXY', '/run/haproxy/a.sock', 'be_web', 'w2', NULL, NULL`);
  await target("00000000-0000-4000-8000-000000000013", P, "web-3", `'HAPROXY', '127.0.0.1:9999', 'be_web', 'w3', NULL, NULL`);
  await target("00000000-0000-4000-8000-000000000014", P, "web-4", `'HOOK', NULL, NULL, NULL, 'lbctl drain web-4', 'lbctl ready web-4'`);
  await target("00000000-0000-4000-8000-000000000015", P, "web-5", `'NONE', NULL, NULL, NULL, NULL, NULL`);
  await target("00000000-0000-4000-8000-000000000021", Q, "qa-1", `'HAPROXY', '/run/haproxy/a.sock', 'be_qa', 'qa1', NULL, NULL`);
  await target("00000000-0000-4000-8000-000000000022", Q, "qa-2", "");

  await migrateDatabase(db.url);

  const balancers = (await db.query(`SELECT e.name AS env, b.name, b.kind::text, b.address, b."drainCommand", b."undrainCommand" FROM "Balancer" b JOIN "Environment" e ON e.id = b."environmentId" ORDER BY e.name, b.name`)).rows;
  expect(balancers).toEqual([
    { env: "Production", name: "Commands", kind: "HOOK", address: null, drainCommand: "lbctl drain web-4", undrainCommand: "lbctl ready web-4" },
    { env: "Production", name: "HAProxy 1", kind: "HAPROXY", address: "/run/haproxy/a.sock", drainCommand: null, undrainCommand: null },
    { env: "Production", name: "HAProxy 2", kind: "HAPROXY", address: "127.0.0.1:9999", drainCommand: null, undrainCommand: null },
    { env: "QA", name: "HAProxy", kind: "HAPROXY", address: "/run/haproxy/a.sock", drainCommand: null, undrainCommand: null },
  ]);
  const members = (await db.query(`SELECT t.name AS target, b.name AS balancer, m.backend, m.server FROM "BalancerMembership" m JOIN "Target" t ON t.id = m."targetId" JOIN "Balancer" b ON b.id = m."balancerId" ORDER BY t.name`)).rows;
  expect(members).toEqual([
    { target: "qa-1", balancer: "HAProxy", backend: "be_qa", server: "qa1" },
    { target: "web-1", balancer: "HAProxy 1", backend: "be_web", server: "w1" },
    { target: "web-2", balancer: "HAProxy 1", backend: "be_web", server: "w2" },
    { target: "web-3", balancer: "HAProxy 2", backend: "be_web", server: "w3" },
    { target: "web-4", balancer: "Commands", backend: "", server: "web-4" },
  ]);
});
