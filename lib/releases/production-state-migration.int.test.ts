// The migration that puts existing releases' status right (prisma/migrations/*_release_production_state): before it,
// every release that had ever been live in production kept RELEASED. A database with a history written the old way
// is migrated, and each release then says what the deployment records say.
import { afterAll, describe, expect, it } from "vitest";
import { databaseMigratedUpTo } from "../../test/migrated-up-to";

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

describe("the release production state migration", () => {
  it("keeps RELEASED for what production runs and marks the others reverted or superseded, as their deployments say", async () => {
    const db = await databaseMigratedUpTo(/_release_production_state$/);
    drops.push(db.drop);
    const id = async () => (await db.query("SELECT gen_random_uuid() AS id")).rows[0].id as string;
    const [customer, app, qa, prodEu, prodUs, user] = await Promise.all([id(), id(), id(), id(), id(), id()]);
    await db.query(`INSERT INTO "Customer" (id, name, slug, "updatedAt") VALUES ($1, 'C', 'c', now())`, [customer]);
    await db.query(`INSERT INTO "Application" (id, "customerId", name, slug, "updatedAt") VALUES ($1, $2, 'A', 'a', now())`, [app, customer]);
    for (const [env, pos, prod] of [[qa, 0, false], [prodEu, 1, true], [prodUs, 2, true]] as const) {
      await db.query(`INSERT INTO "Environment" (id, "applicationId", name, slug, position, "isProduction", "updatedAt") VALUES ($1, $2, $3, $3, $4, $5, now())`, [env, app, `e${pos}`, pos, prod]);
    }
    await db.query(`INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES ($1, 'u@example.test', 'U', 'x', now())`, [user]);
    const release = async (version: string, status: string) => {
      const r = await id();
      await db.query(
        `INSERT INTO "Release" (id, "applicationId", version, status, "artifactSha256", "artifactSize", "artifactFileName", "artifactStorageKey", "uploadedById", "updatedAt")
         VALUES ($1, $2, $3, $4, 'sha', 1, 'f', 'k', $5, now())`,
        [r, app, version, status, user],
      );
      return r;
    };
    let minute = 0;
    const deployment = async (releaseId: string, environmentId: string, kind: "DEPLOY" | "REVERT", status = "SUCCEEDED") => {
      minute += 1;
      await db.query(
        `INSERT INTO "Deployment" (id, "releaseId", "environmentId", kind, strategy, status, "finishedAt", "updatedAt")
         VALUES (gen_random_uuid(), $1, $2, $3, 'ROLLING', $4, timestamp '2026-01-01' + make_interval(mins => $5), now())`,
        [releaseId, environmentId, kind, status, minute],
      );
    };
    // As the old engine left them: RELEASED once live in production, whatever happened since.
    const v1 = await release("1.0.0", "RELEASED");
    const v2 = await release("1.1.0", "RELEASED");
    const v3 = await release("1.2.0", "RELEASED");
    const v4 = await release("1.3.0", "RELEASED");
    const candidate = await release("1.4.0", "CANDIDATE");
    await deployment(candidate, qa, "DEPLOY");
    await deployment(v1, prodEu, "DEPLOY");
    await deployment(v2, prodEu, "DEPLOY"); // 1.0.0 superseded in EU
    await deployment(v3, prodEu, "DEPLOY");
    await deployment(v2, prodEu, "REVERT"); // 1.2.0 reverted, 1.1.0 back in EU
    await deployment(v4, prodEu, "DEPLOY", "FAILED"); // a failed attempt changes nothing
    await deployment(v4, prodUs, "DEPLOY"); // 1.3.0 live in US only
    await deployment(v1, prodUs, "DEPLOY");
    await deployment(v4, prodUs, "DEPLOY"); // 1.0.0 replaced in US too; 1.3.0 live again

    await db.migrateRest();
    const { rows } = await db.query(`SELECT version, status FROM "Release" ORDER BY version`);
    expect(rows).toEqual([
      { version: "1.0.0", status: "SUPERSEDED" },
      { version: "1.1.0", status: "RELEASED" },
      { version: "1.2.0", status: "REVERTED" },
      { version: "1.3.0", status: "RELEASED" },
      { version: "1.4.0", status: "CANDIDATE" },
    ]);
  });
});
