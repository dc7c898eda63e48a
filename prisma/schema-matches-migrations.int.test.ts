// Proves that prisma/migrations produce exactly the database prisma/schema.prisma describes. Migrations are written
// without Prisma's native engine on these machines (see scripts/lib/prisma-diff.ts), so nothing else would notice a
// model change that lacks its migration, or a hand-written migration that differs from the schema.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase, readMigrations } from "../lib/db/migrate";
import { diffFromDatabase } from "../scripts/lib/prisma-diff";
import { createScratchDatabase, type ScratchDatabase } from "../test/scratch-database";

const SCHEMA = path.resolve(import.meta.dirname, "schema.prisma");
const MIGRATIONS = path.resolve(import.meta.dirname, "migrations");

describe("prisma/migrations match prisma/schema.prisma", () => {
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    scratch = await createScratchDatabase("schema");
    const result = await migrateDatabase(scratch.url, { dir: MIGRATIONS });
    expect(result.applied).toEqual((await readMigrations(MIGRATIONS)).map((m) => m.name));
  });

  afterAll(async () => {
    await scratch?.drop();
  });

  it("a freshly migrated database needs no change to match the schema", async () => {
    const sql = await diffFromDatabase(SCHEMA, scratch.url);
    // On failure this prints the SQL of the missing migration.
    expect(sql).toBe("");
  });

  it("the check fails when the database drifts from the schema", async () => {
    await scratch.query(`ALTER TABLE "Environment" DROP COLUMN "hookTimeoutSeconds"`);
    const sql = await diffFromDatabase(SCHEMA, scratch.url);
    expect(sql).not.toBe("");
    expect(sql).toMatch(/ALTER TABLE "Environment" ADD COLUMN\s+"hookTimeoutSeconds"/);
  });
});
