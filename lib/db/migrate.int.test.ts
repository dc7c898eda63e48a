import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "../../test/scratch-database";
import { DEFAULT_MIGRATIONS_DIR, migrateDatabase, readMigrations } from "./migrate";

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

const rowsOf = async (db: ScratchDatabase) =>
  (await db.query(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name`)).rows as MigrationRow[];

const tableExists = async (db: ScratchDatabase, table: string) =>
  (await db.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [`public."${table}"`])).rows[0]?.exists === true;

let projectMigrationNames: string[];
const scratches: ScratchDatabase[] = [];

async function scratch(): Promise<ScratchDatabase> {
  const db = await createScratchDatabase("migrate");
  scratches.push(db);
  return db;
}

beforeAll(async () => {
  projectMigrationNames = (await readMigrations()).map((m) => m.name);
  expect(projectMigrationNames.length).toBeGreaterThan(0);
});

afterAll(async () => {
  await Promise.all(scratches.map((s) => s.drop()));
});

describe("migrateDatabase on the project's migrations", () => {
  it("applies every migration once, and nothing the second time", async () => {
    const db = await scratch();
    const first = await migrateDatabase(db.url);
    expect(first).toEqual({ applied: projectMigrationNames, alreadyApplied: 0 });
    expect(await tableExists(db, "User")).toBe(true);

    const second = await migrateDatabase(db.url);
    expect(second).toEqual({ applied: [], alreadyApplied: projectMigrationNames.length });
    expect((await rowsOf(db)).map((r) => r.migration_name)).toEqual(projectMigrationNames);
  });

  it("two runs at once on a fresh database both succeed and apply each migration exactly once", async () => {
    const db = await scratch();
    const [a, b] = await Promise.all([migrateDatabase(db.url), migrateDatabase(db.url)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(projectMigrationNames);
    // One run did the work, the other found it done.
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, projectMigrationNames.length]);
    const rows = await rowsOf(db);
    expect(rows.map((r) => r.migration_name)).toEqual(projectMigrationNames);
  });

  it("records each migration as Prisma does: sha256 of the file, finished, one step, not rolled back", async () => {
    const db = await scratch();
    await migrateDatabase(db.url);
    const rows = await rowsOf(db);
    expect(rows).toHaveLength(projectMigrationNames.length);
    for (const row of rows) {
      const file = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(file).digest("hex"));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });
});

describe("migrateDatabase with a failing migration", () => {
  const dirs: string[] = [];

  /** A migrations folder holding `files` (migration name -> SQL). */
  async function migrationsDir(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-migrations-"));
    dirs.push(dir);
    for (const [name, sql] of Object.entries(files)) {
      await mkdir(path.join(dir, name));
      await writeFile(path.join(dir, name, "migration.sql"), sql);
    }
    return dir;
  }

  const FIRST = `CREATE TABLE "first_table" (id INT PRIMARY KEY);`;
  // Creates a table and changes a row of an earlier one, then fails: neither change may survive.
  const BROKEN = `CREATE TABLE "half_table" (id INT PRIMARY KEY);\nINSERT INTO "first_table" VALUES (1);\nSELEC oops;`;
  const AFTER = `CREATE TABLE "after_table" (id INT PRIMARY KEY);`;

  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("rolls the failing migration back, names it, and stops before the next one", async () => {
    const db = await scratch();
    const dir = await migrationsDir({ "20260101000000_first": FIRST, "20260102000000_broken": BROKEN, "20260103000000_after": AFTER });
    await expect(migrateDatabase(db.url, { dir })).rejects.toThrow(/^Migration 20260102000000_broken failed and was rolled back: .*syntax error/);

    expect(await tableExists(db, "first_table")).toBe(true);
    expect(await tableExists(db, "half_table")).toBe(false);
    expect(await tableExists(db, "after_table")).toBe(false);
    expect((await db.query(`SELECT count(*)::int AS n FROM "first_table"`)).rows[0]?.n).toBe(0);
    expect((await rowsOf(db)).map((r) => r.migration_name)).toEqual(["20260101000000_first"]);
  });

  it("picks up where it stopped once the migration is fixed", async () => {
    const db = await scratch();
    const broken = await migrationsDir({ "20260101000000_first": FIRST, "20260102000000_broken": BROKEN, "20260103000000_after": AFTER });
    await expect(migrateDatabase(db.url, { dir: broken })).rejects.toThrow(/20260102000000_broken/);

    const fixed = await migrationsDir({
      "20260101000000_first": FIRST,
      "20260102000000_broken": `CREATE TABLE "half_table" (id INT PRIMARY KEY);`,
      "20260103000000_after": AFTER,
    });
    const result = await migrateDatabase(db.url, { dir: fixed });
    expect(result).toEqual({ applied: ["20260102000000_broken", "20260103000000_after"], alreadyApplied: 1 });
    expect(await tableExists(db, "half_table")).toBe(true);
    expect(await tableExists(db, "after_table")).toBe(true);
  });
});

// The revert history (Deployment.returnToDeploymentId) of deployments made before it existed is read from their
// order: a database upgraded with history reverts exactly as if it had been recorded all along.
describe("the revert_history migration on an existing database", () => {
  it("links each existing deployment to what ran before it, redeploys and reverts included", async () => {
    const all = await readMigrations();
    const at = all.findIndex((m) => m.name.endsWith("_revert_history"));
    expect(at).toBeGreaterThan(0);
    const before = await mkdtemp(path.join(os.tmpdir(), "rg-migrations-"));
    try {
      for (const m of all.slice(0, at)) {
        await mkdir(path.join(before, m.name));
        await writeFile(path.join(before, m.name, "migration.sql"), await readFile(path.join(DEFAULT_MIGRATIONS_DIR, m.name, "migration.sql")));
      }
      const db = await scratch();
      await migrateDatabase(db.url, { dir: before });
      const ids = await db.query(`SELECT gen_random_uuid() AS u, gen_random_uuid() AS c, gen_random_uuid() AS a, gen_random_uuid() AS e`);
      const { u, c, a, e } = ids.rows[0] as Record<string, string>;
      await db.query(`INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES ($1, 'dev@example.test', 'Dev', 'x', now())`, [u]);
      await db.query(`INSERT INTO "Customer" (id, name, slug, "updatedAt") VALUES ($1, 'Acme', 'acme', now())`, [c]);
      await db.query(`INSERT INTO "Application" (id, "customerId", name, slug, "updatedAt") VALUES ($1, $2, 'Shop', 'shop', now())`, [a, c]);
      await db.query(`INSERT INTO "Environment" (id, "applicationId", name, slug, position, "updatedAt") VALUES ($1, $2, 'Production', 'production', 0, now())`, [e, a]);
      const release = async (version: string) =>
        (
          await db.query(
            `INSERT INTO "Release" (id, "applicationId", version, "artifactSha256", "artifactSize", "artifactFileName", "artifactStorageKey", "uploadedById", "updatedAt")
             VALUES (gen_random_uuid(), $1, $2, repeat('a', 64), 1, 'a.tar.gz', 'k', $3, now()) RETURNING id`,
            [a, version, u],
          )
        ).rows[0].id as string;
      const [r1, r2, r3] = [await release("1"), await release("2"), await release("3")];
      // One deployment a minute: 1, 2, 2 again (a redeploy), 3, a revert to 2 (the old code went by previousReleaseId),
      // then 3 failing.
      let minute = 0;
      const deployment = async (kind: "DEPLOY" | "REVERT", releaseId: string, status = "SUCCEEDED") => {
        minute += 1;
        return (
          await db.query(
            `INSERT INTO "Deployment" (id, "releaseId", "environmentId", kind, strategy, status, "createdAt", "finishedAt", "updatedAt")
             VALUES (gen_random_uuid(), $1, $2, $3::"DeploymentKind", 'ROLLING', $4::"DeploymentStatus", timestamp '2026-01-01' + make_interval(mins => $5), timestamp '2026-01-01' + make_interval(mins => $5, secs => 30), now())
             RETURNING id`,
            [releaseId, e, kind, status, minute],
          )
        ).rows[0].id as string;
      };
      const d1 = await deployment("DEPLOY", r1);
      const d2 = await deployment("DEPLOY", r2);
      const d2again = await deployment("DEPLOY", r2);
      const d3 = await deployment("DEPLOY", r3);
      const back = await deployment("REVERT", r2);
      const failed = await deployment("DEPLOY", r3, "FAILED");

      await migrateDatabase(db.url);

      const rows = (await db.query(`SELECT id, "returnToDeploymentId" AS "to" FROM "Deployment"`)).rows as { id: string; to: string | null }[];
      const to = Object.fromEntries(rows.map((r) => [r.id, r.to]));
      expect([to[d1], to[d2], to[d2again], to[d3], to[back], to[failed]]).toEqual([null, d1, d1, d2again, d1, back]);
    } finally {
      await rm(before, { recursive: true, force: true });
    }
  });
});

