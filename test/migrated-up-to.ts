// A scratch database migrated up to, not including, one of the project's migrations: for tests of a migration that
// puts existing rows right (a backfill), which write rows the old way and then run the rest.
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DEFAULT_MIGRATIONS_DIR, migrateDatabase } from "../lib/db/migrate";
import { createScratchDatabase, type ScratchDatabase } from "./scratch-database";

export async function databaseMigratedUpTo(migration: RegExp): Promise<ScratchDatabase & { migrateRest: () => Promise<void> }> {
  const names = (await readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const cut = names.findIndex((n) => migration.test(n));
  if (cut <= 0) throw new Error(`no migration matches ${migration} after the first one`);
  const dir = await mkdtemp(path.join(os.tmpdir(), "rg-migrations-"));
  try {
    for (const n of names.slice(0, cut)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, n), path.join(dir, n), { recursive: true });
    const db = await createScratchDatabase("backfill");
    await migrateDatabase(db.url, { dir });
    return { ...db, migrateRest: () => migrateDatabase(db.url).then(() => undefined) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
