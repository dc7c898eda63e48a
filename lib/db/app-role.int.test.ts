// The least-privilege role the control plane runs as (with the embedded PostgreSQL): it can do its work, but it
// cannot change audit history, even by switching the append-only triggers off.
import { randomBytes } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "../../test/scratch-database";
import { systemActor } from "../auth/actor";
import { recordAuditEvent } from "../audit/record-audit-event";
import { ensureAppRole } from "./app-role";
import { PrismaClient } from "./generated/client";
import { migrateDatabase } from "./migrate";

let scratch: ScratchDatabase;
let role: string;
let asApp: PrismaClient;
let appUrl: string;

beforeAll(async () => {
  scratch = await createScratchDatabase("approle");
  await migrateDatabase(scratch.url);
  role = `releasegate_test_app_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  await ensureAppRole(scratch.url, role, password);
  await ensureAppRole(scratch.url, role, password); // idempotent
  const u = new URL(scratch.url);
  u.username = role;
  u.password = password;
  appUrl = u.toString();
  asApp = new PrismaClient({ adapter: new PrismaPg({ connectionString: appUrl, max: 2 }) });
}, 60_000);

afterAll(async () => {
  await asApp.$disconnect();
  await scratch.drop();
  const admin = new pg.Client({ connectionString: new URL("/postgres", process.env.DATABASE_URL!).toString() });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

async function asAppSql(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: appUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe("the application's database role", () => {
  it("writes domain rows and appends audit events", async () => {
    await asApp.$transaction(async (tx) => {
      const c = await tx.customer.create({ data: { name: "Role test", slug: "role-test" } });
      await recordAuditEvent(tx, systemActor("role test"), { type: "CUSTOMER_CREATED", object: { type: "Customer", id: c.id }, summary: "created" });
    });
    expect(await asApp.auditEvent.count()).toBe(1);
    await asApp.customer.update({ where: { slug: "role-test" }, data: { name: "Renamed" } });
  });

  it("cannot update, delete or truncate audit events, nor switch the triggers off", async () => {
    await expect(asAppSql(`UPDATE "AuditEvent" SET "summary" = 'x'`)).rejects.toThrow(/permission denied/);
    await expect(asAppSql(`DELETE FROM "AuditEvent"`)).rejects.toThrow(/permission denied/);
    await expect(asAppSql(`TRUNCATE "AuditEvent"`)).rejects.toThrow(/permission denied/);
    await expect(asAppSql(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`)).rejects.toThrow(/must be owner/);
    await expect(asAppSql(`DELETE FROM "AuditCheckpoint"`)).rejects.toThrow(/permission denied/);
    expect(await asApp.auditEvent.count()).toBe(1);
  });

  it("cannot touch the migration bookkeeping", async () => {
    await expect(asAppSql(`DELETE FROM "_prisma_migrations"`)).rejects.toThrow(/permission denied/);
  });
});
