// The migration that records what older notifications asked (prisma/migrations/*_notification_asks): requests to
// test, approve or fix sent before asks were stored name their release in their link, so the inbox can tell when
// they are done too; everything else stays a plain message.
import { afterAll, describe, expect, it } from "vitest";
import { databaseMigratedUpTo } from "../../test/migrated-up-to";

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

describe("the notification asks migration", () => {
  it("reads the ask and the release from the links of requests to test, approve and fix", async () => {
    const db = await databaseMigratedUpTo(/_notification_asks$/);
    drops.push(db.drop);
    const user = (await db.query(`INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES (gen_random_uuid(), 'u@example.test', 'U', 'x', now()) RETURNING id`)).rows[0].id as string;
    const app = "3f1c0000-0000-4000-8000-000000000001";
    const release = "8d0f0000-0000-4000-8000-000000000002";
    const review = `/apps/${app}/releases/${release}/decide`;
    const rows: [string, string, string][] = [
      ["release.ready_for_acceptance", "Test Shop 1.4.0", `${review}?deployment=c2a90000-0000-4000-8000-000000000003`],
      ["release.accepted", "Approve Shop 1.4.0 for Production", review],
      ["release.accepted", "Shop 1.4.0 was accepted", review],
      ["release.rejected", "Shop 1.4.0 was rejected", review],
      ["release.accepted", "Promote Shop 1.4.0", `/apps/${app}`],
      ["deployment.succeeded", "Shop 1.4.0 is live in QA", "/deployments/c2a90000-0000-4000-8000-000000000003"],
    ];
    for (const [kind, title, link] of rows) {
      await db.query(`INSERT INTO "Notification" (id, "userId", kind, title, link) VALUES (gen_random_uuid(), $1, $2, $3, $4)`, [user, kind, title, link]);
    }
    await db.migrateRest();
    const { rows: after } = await db.query(`SELECT title, ask, "releaseId" FROM "Notification" ORDER BY title`);
    expect(after).toEqual([
      { title: "Approve Shop 1.4.0 for Production", ask: "APPROVE", releaseId: release },
      { title: "Promote Shop 1.4.0", ask: null, releaseId: null },
      { title: "Shop 1.4.0 is live in QA", ask: null, releaseId: null },
      { title: "Shop 1.4.0 was accepted", ask: null, releaseId: null },
      { title: "Shop 1.4.0 was rejected", ask: "FIX", releaseId: release },
      { title: "Test Shop 1.4.0", ask: "TEST", releaseId: release },
    ]);
  });
});
