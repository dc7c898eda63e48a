// Audit benchmarks (issue: audit and evidence). Seeds AUDIT_BENCH_EVENTS (default 1,000,000) hash-chained events
// into a fresh database, then measures, each against a baseline taken in the same run:
//   - auditor search, server time p95 over several filters   (baseline: the same page query with no filter)
//   - NDJSON export throughput and RSS growth               (baseline: reading the same rows without formatting)
//   - verify throughput (the audit:verify code path)         (baseline: reading the same rows + one sha256 each)
// Run: npm run bench -- audit      Prints figures; asserts nothing.
import { generateKeyPairSync, createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { fmt, median, percentile, row } from "./lib/stats";
import { seedAuditEvents } from "./lib/seed-audit";
import { startTestServer } from "../scripts/lib/test-database";
import { migrateDatabase } from "../lib/db/migrate";

const EVENTS = Number(process.env.AUDIT_BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function main(): Promise<void> {
  const server = await startTestServer();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "releasegate-bench-"));
  try {
    const url = await server.createDatabase("releasegate_test_bench_audit");
    await migrateDatabase(url);
    process.env.DATABASE_URL = url;
    process.env.DATA_DIR = dataDir;
    process.env.LOG_LEVEL = "silent";
    const { db } = await import("../lib/db/client");
    const { toUserActor } = await import("../lib/auth/session");
    const { searchAuditEvents } = await import("../lib/audit/search-audit-events");
    const { exportAuditEvents } = await import("../lib/audit/export-audit-events");
    const { createCheckpoint } = await import("../lib/audit/create-checkpoint");
    const { readEvents } = await import("../lib/audit/event-rows");
    const { verifyDatabase } = await import("../lib/audit/verify-database");
    const { keyIdOf } = await import("../lib/audit/signing-key");

    // Shape: 20 customers x 5 applications x 3 environments, 2,000 releases, 200 people.
    const admin = await db.user.create({ data: { email: "bench-admin@example.test", name: "Bench admin", passwordHash: "x", isPlatformAdmin: true } });
    const auditor = await db.user.create({ data: { email: "bench-auditor@example.test", name: "Bench auditor", passwordHash: "x" } });
    const applicationIds: string[] = [];
    const environmentIds: string[][] = [];
    const releaseIds: string[] = [];
    for (let c = 0; c < 20; c++) {
      const customer = await db.customer.create({ data: { name: `Customer ${c}`, slug: `customer-${c}` } });
      for (let a = 0; a < 5; a++) {
        const app = await db.application.create({
          data: {
            customerId: customer.id,
            name: `App ${c}-${a}`,
            slug: `app-${c}-${a}`,
            environments: { create: ["QA", "Acceptance", "Production"].map((name, position) => ({ name, slug: name.toLowerCase(), position })) },
          },
          include: { environments: true },
        });
        applicationIds.push(app.id);
        environmentIds.push(app.environments.map((e) => e.id));
        const rel = await db.release.createManyAndReturn({
          data: Array.from({ length: 20 }, (_, r) => ({
            applicationId: app.id, version: `1.${r}.0`, artifactSha256: "0".repeat(64), artifactSize: 1n, artifactFileName: "a.tgz", artifactStorageKey: "k", uploadedById: admin.id,
          })),
          select: { id: true },
        });
        releaseIds.push(...rel.map((r) => r.id));
      }
    }
    const auditorApps = applicationIds.slice(0, 5);
    await db.membership.createMany({ data: auditorApps.map((applicationId) => ({ userId: auditor.id, applicationId, role: "AUDITOR" as const })) });
    const actors = Array.from({ length: 200 }, (_, i) => `person${i}@example.test`);

    console.log(`\naudit benchmarks: ${fmt(EVENTS, 0)} events, ${RUNS} runs each, ${os.cpus().length} cores, node ${process.version}`);
    let t = performance.now();
    await seedAuditEvents(url, EVENTS, { applicationIds, environmentIds, releaseIds, actors });
    row("seeded (hash-chained) in", `${fmt((performance.now() - t) / 1000)} s`);
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const key = { privateKey, publicKeyPem: "", keyId: keyIdOf(publicKey) };
    await createCheckpoint({ key });

    const ctx = { requestId: "bench", ip: null, userAgent: null };
    const adminActor = toUserActor({ ...admin, memberships: [] }, null, ctx);
    const auditorActor = toUserActor({ ...auditor, memberships: auditorApps.map((applicationId) => ({ applicationId, role: "AUDITOR" as const })) }, null, ctx);

    // ── search
    const filters: [string, typeof adminActor, Record<string, unknown>][] = [
      ["admin, no filter", adminActor, {}],
      ["admin, by application", adminActor, { applicationId: applicationIds[42] }],
      ["admin, by environment", adminActor, { environmentId: environmentIds[7]![2] }],
      ["admin, by actor", adminActor, { actor: actors[17] }],
      ["admin, by type", adminActor, { type: "ROLE_GRANTED" }],
      ["admin, by time range (one week)", adminActor, { from: new Date("2026-03-01"), to: new Date("2026-03-08") }],
      ["admin, by release version", adminActor, { release: "1.7.0" }],
      ["admin, type + application + time range", adminActor, { type: "USER_SIGNED_IN", applicationId: applicationIds[3], from: new Date("2026-01-01"), to: new Date("2026-06-01") }],
      ["auditor of 5 apps, no filter", auditorActor, {}],
      ["auditor of 5 apps, page 100 (keyset)", auditorActor, { before: BigInt(EVENTS - 100 * 50 * 20) }],
    ];
    console.log("\nauditor search: server time per page of 50 (ms)");
    const baselineSamples: number[] = [];
    for (let i = 0; i < 30 * RUNS; i++) {
      t = performance.now();
      await db.$queryRawUnsafe(`SELECT "seq" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 51`);
      baselineSamples.push(performance.now() - t);
    }
    row("baseline: bare page query, p95", fmt(percentile(baselineSamples, 95), 2));
    const all: number[] = [];
    for (const [label, actor, filter] of filters) {
      const samples: number[] = [];
      for (let i = 0; i < 10 * RUNS; i++) {
        t = performance.now();
        await searchAuditEvents(actor, filter);
        samples.push(performance.now() - t);
      }
      all.push(...samples);
      row(label, `p50 ${fmt(median(samples), 2)}  p95 ${fmt(percentile(samples, 95), 2)}`);
    }
    row("all filters, p95 (target <= 150)", fmt(percentile(all, 95), 2));

    // ── export
    console.log("\nNDJSON export of every event (events/s; RSS growth MB)");
    const baseRates: number[] = [];
    const rates: number[] = [];
    const rss: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      t = performance.now();
      let n = 0;
      let after = 0n;
      for (;;) {
        const rows = await db.$queryRawUnsafe<{ seq: bigint }[]>(`SELECT * FROM "AuditEvent" WHERE "seq" > $1::bigint ORDER BY "seq" LIMIT 5000`, after.toString());
        n += rows.length;
        if (rows.length < 5000) break;
        after = rows[rows.length - 1]!.seq;
      }
      baseRates.push(n / ((performance.now() - t) / 1000));
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      t = performance.now();
      let bytes = 0;
      let lines = 0;
      for await (const line of await exportAuditEvents(adminActor, {}, "ndjson")) {
        bytes += line.length + 1;
        lines += 1;
        if ((lines & 0x3fff) === 0) peak = Math.max(peak, process.memoryUsage().rss);
      }
      rates.push(EVENTS / ((performance.now() - t) / 1000));
      rss.push((peak - before) / 1e6);
      if (r === 0) row("export size", `${fmt(bytes / 1e6)} MB`, `${fmt(lines, 0)} lines`);
    }
    row("baseline: read the rows only, median", `${fmt(median(baseRates), 0)} /s`);
    row("NDJSON export, median (target >= 50,000)", `${fmt(median(rates), 0)} /s`);
    row("RSS growth during export, median", `${fmt(median(rss))} MB`);

    // ── verify
    console.log(`\nverify the whole chain from the database (events/s; ${os.availableParallelism()} worker threads)`);
    const client = new pg.Client({
      connectionString: url,
      types: { getTypeParser: (oid: number, f?: string) => (oid === 20 ? (v: string) => BigInt(v) : oid === 1114 ? (v: string) => new Date(`${v.replace(" ", "T")}Z`) : pg.types.getTypeParser(oid, f as "text")) } as pg.CustomTypesConfig,
    });
    await client.connect();
    const query = async (sql: string, params: unknown[]) => (await client.query(sql, params)).rows as Record<string, unknown>[];
    const hashOnly: number[] = [];
    const verifyRates: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      t = performance.now();
      for await (const e of readEvents(query)) createHash("sha256").update(e.hash).digest();
      hashOnly.push(EVENTS / ((performance.now() - t) / 1000));
      t = performance.now();
      // What `npm run audit:verify -- --database-url` runs: its own connection and worker threads.
      const result = await verifyDatabase(url, { publicKey, keyId: key.keyId });
      if (!result.ok) throw new Error(`verify failed: ${result.reason}`);
      verifyRates.push(EVENTS / ((performance.now() - t) / 1000));
    }
    await client.end();
    row("baseline: read rows + one sha256 each, median", `${fmt(median(hashOnly), 0)} /s`);
    row("verify (canonical JSON + chain + checkpoint), median", `${fmt(median(verifyRates), 0)} /s`, "(target >= 100,000)");
    await db.$disconnect();
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
