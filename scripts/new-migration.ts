// `npm run db:new-migration -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that
// takes a database migrated to the current head to prisma/schema.prisma. The offline counterpart of
// `prisma migrate dev --create-only` (which needs Prisma's native engine): it applies the existing migrations to a
// scratch database (on DATABASE_URL's server, else an embedded PostgreSQL) and diffs it with the schema.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { migrateDatabase } from "../lib/db/migrate";
import { diffFromDatabase } from "./lib/prisma-diff";
import { startTestServer } from "./lib/test-database";

const root = path.resolve(import.meta.dirname, "..");

async function main(): Promise<number> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    console.error("usage: npm run db:new-migration -- <name in snake_case>");
    return 2;
  }
  const server = await startTestServer();
  try {
    const url = await server.createDatabase("releasegate_test_new_migration");
    await migrateDatabase(url, { dir: path.join(root, "prisma/migrations") });
    const sql = await diffFromDatabase(path.join(root, "prisma/schema.prisma"), url);
    if (sql.trim() === "") {
      console.log("prisma/schema.prisma matches the migrations: nothing to write.");
      return 0;
    }
    const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
    const dir = path.join(root, "prisma/migrations", `${stamp}_${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "migration.sql"), sql);
    console.log(`wrote ${path.relative(root, dir)}/migration.sql; review it, then start the app to apply it.`);
    return 0;
  } finally {
    await server.stop();
  }
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
