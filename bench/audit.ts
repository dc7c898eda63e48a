// Audit benchmarks (issue: audit and evidence). Seeds AUDIT_BENCH_EVENTS (default 1,000,000) hash-chained events
// into a fresh database, then measures, each against a baseline taken in the same run:
//   - auditor search, server time p95 over several filters   (baseline: the same page query with no filter)
//   - NDJSON and CSV export throughput and RSS growth       (baseline: the same binary COPY without formatting),
//     and an auditor's complete export (5 of 100 applications in full, every other event as its hashes)
//   - verify throughput, from the database and from the NDJSON export files (the audit:verify code paths)
//                                                            (baselines: the same reads + one sha256 per event)
// Each section prints the machine's load: other work on the same cores shows in every figure, baselines included.
// Run: npm run bench -- audit      Prints figures; asserts nothing.
import { generateKeyPairSync, createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { EVENT_COPY_COLUMNS, EVENT_COPY_FIELDS, F } from "../lib/audit/binary-event-row";
import { CopyBinaryReader } from "../lib/audit/copy-binary-reader";
import { fmt, median, percentile, row } from "./lib/stats";
import { seedAuditEvents } from "./lib/seed-audit";
import { startTestServer } from "../scripts/lib/test-database";
import { migrateDatabase } from "../lib/db/migrate";

const EVENTS = Number(process.env.AUDIT_BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** Load on the machine: the load average, and how many of its cores were busy since the last call (/proc/stat). */
let lastStat = cpuTimes();
let lastOwn = process.cpuUsage();
let lastWall = performance.now();
function cpuTimes(): { busy: number; total: number } {
  const [, ...v] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3]! - v[4]!, total };
}
/** Starts a section: its load average now, and the start of its busy-cores window. */
function sectionStart(): string {
  lastStat = cpuTimes();
  lastOwn = process.cpuUsage();
  lastWall = performance.now();
  return `[load average ${os.loadavg().map((l) => fmt(l, 1)).join(" ")}]`;
}
/** Ends a section: the load average, and how many cores the whole machine kept busy during the section. */
function machine(): string {
  const now = cpuTimes();
  const busy = ((now.busy - lastStat.busy) / Math.max(1, now.total - lastStat.total)) * os.cpus().length;
  const own = process.cpuUsage(lastOwn);
  const ownCores = (own.user + own.system) / 1000 / Math.max(1, performance.now() - lastWall);
  lastStat = now;
  return `[machine during this section: ${fmt(busy, 2)} of ${os.cpus().length} cores busy, ${fmt(ownCores, 2)} of them this process (the rest PostgreSQL and anything else); load average ${os.loadavg().map((l) => fmt(l, 1)).join(" ")}]`;
}

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
    const { readCheckpoints, readEvents } = await import("../lib/audit/event-rows");
    const { verifyDatabase } = await import("../lib/audit/verify-database");
    const { RAW_TEXT } = await import("../lib/audit/event-rows");
    const { verifyExport } = await import("../lib/audit/verify-export");
    const { verifyChain } = await import("../lib/audit/verify-chain");
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
    console.log(`\nauditor search: server time per page of 50 (ms)  ${sectionStart()}`);
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
    console.log(`  ${machine()}`);

    // ── export
    // Baselines of the same run: the rows read with the same binary COPY but not formatted (the floor of this
    // design), and the rows read through Prisma a page at a time, as the export did before.
    console.log(`\nexport of every event (events/s; RSS growth MB)  ${sectionStart()}`);
    const exportFile = path.join(dataDir, "export.ndjson");
    // An auditor's complete export: their 5 of the 100 applications in full, every other event as its hashes (the
    // content hash computed from the row, as in verification).
    const auditorFile = path.join(dataDir, "auditor.ndjson");
    const auditorRates: number[] = [];
    const auditorRss: number[] = [];
    const copyOnly: number[] = [];
    const prismaOnly: number[] = [];
    const rates: Record<"ndjson" | "csv", number[]> = { ndjson: [], csv: [] };
    const rss: Record<"ndjson" | "csv", number[]> = { ndjson: [], csv: [] };
    const sizes: Record<string, number> = {};
    const copyClient = new pg.Client({ connectionString: url });
    await copyClient.connect();
    for (let r = 0; r < RUNS; r++) {
      t = performance.now();
      let copied = 0;
      const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, () => (copied += 1));
      for await (const chunk of copyClient.query(copyTo(`COPY (SELECT ${EVENT_COPY_COLUMNS} FROM "AuditEvent" ORDER BY "seq") TO STDOUT (FORMAT binary)`))) reader.push(chunk as Buffer);
      reader.finish();
      copyOnly.push(copied / ((performance.now() - t) / 1000));
      if (r === 0) {
        t = performance.now();
        let n = 0;
        let after = 0n;
        for (;;) {
          const rows = await db.$queryRawUnsafe<{ seq: bigint }[]>(`SELECT * FROM "AuditEvent" WHERE "seq" > $1::bigint ORDER BY "seq" LIMIT 5000`, after.toString());
          n += rows.length;
          if (rows.length < 5000) break;
          after = rows[rows.length - 1]!.seq;
        }
        prismaOnly.push(n / ((performance.now() - t) / 1000));
      }
      for (const format of ["ndjson", "csv"] as const) {
        global.gc?.();
        const before = process.memoryUsage().rss;
        let peak = before;
        // The NDJSON of the first run goes to a file, for the verify benchmark below; the rest is only counted.
        const out = r === 0 && format === "ndjson" ? createWriteStream(exportFile) : null;
        t = performance.now();
        let bytes = 0;
        let chunks = 0;
        for await (const chunk of await exportAuditEvents(adminActor, {}, format)) {
          bytes += chunk.length;
          if (out && !out.write(chunk)) await once(out, "drain");
          if ((++chunks & 63) === 0) peak = Math.max(peak, process.memoryUsage().rss);
        }
        if (out) await new Promise((done) => out.end(done));
        rates[format].push(EVENTS / ((performance.now() - t) / 1000));
        rss[format].push((peak - before) / 1e6);
        sizes[format] = bytes;
      }
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const out = r === 0 ? createWriteStream(auditorFile) : null;
      t = performance.now();
      let chunks = 0;
      for await (const chunk of await exportAuditEvents(auditorActor, {}, "ndjson")) {
        if (out && !out.write(chunk)) await once(out, "drain");
        if ((++chunks & 63) === 0) peak = Math.max(peak, process.memoryUsage().rss);
      }
      if (out) await new Promise((done) => out.end(done));
      auditorRates.push(EVENTS / ((performance.now() - t) / 1000));
      auditorRss.push((peak - before) / 1e6);
    }
    await copyClient.end();
    row("baseline: binary COPY of the rows, not formatted", `${fmt(median(copyOnly), 0)} /s`);
    row("baseline: Prisma pages of 5,000 rows (1 run)", `${fmt(median(prismaOnly), 0)} /s`, "(how the export read before)");
    for (const format of ["ndjson", "csv"] as const) {
      row(`${format.toUpperCase()} export, median (target >= 50,000)`, `${fmt(median(rates[format]), 0)} /s`, `runs ${rates[format].map((x) => fmt(x, 0)).join(" / ")}; ${fmt(sizes[format]! / 1e6)} MB`);
      row(`RSS growth during the ${format.toUpperCase()} export, median`, `${fmt(median(rss[format]))} MB`);
    }
    row("auditor's NDJSON export (5 of 100 applications in full), median", `${fmt(median(auditorRates), 0)} /s`, `runs ${auditorRates.map((x) => fmt(x, 0)).join(" / ")}`);
    row("RSS growth during the auditor's export, median", `${fmt(median(auditorRss))} MB`);
    console.log(`  ${machine()}`);

    // ── verify
    // Baseline of the same run: the same binary COPY with one sha256 per row (over its stored hash), which is the
    // floor of reading and hashing alone. The reference verifier (verifyChain over pg's rows, the plain code the
    // fast path is held to) runs once, for comparison.
    console.log(`\nverify the whole chain (events/s)  ${sectionStart()}`);
    const hashOnly: number[] = [];
    const verifyRates: number[] = [];
    const verifyWorkers: number[] = [];
    const fileHashOnly: number[] = [];
    const fileRates: number[] = [];
    const auditorFileRates: number[] = [];
    const hashClient = new pg.Client({ connectionString: url });
    await hashClient.connect();
    const pub = { publicKey, keyId: key.keyId };
    const expectOk = (result: Awaited<ReturnType<typeof verifyDatabase>>, what: string) => {
      if (!result.ok || result.events !== EVENTS) throw new Error(`${what}: ${result.ok ? `${result.events} events` : result.reason}`);
    };
    for (let r = 0; r < RUNS; r++) {
      t = performance.now();
      const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, start, end) => createHash("sha256").update(buf.subarray(start[F.hash]!, end[F.hash]!)).digest());
      for await (const chunk of hashClient.query(copyTo(`COPY (SELECT ${EVENT_COPY_COLUMNS} FROM "AuditEvent" ORDER BY "seq") TO STDOUT (FORMAT binary)`))) reader.push(chunk as Buffer);
      reader.finish();
      hashOnly.push(reader.rows / ((performance.now() - t) / 1000));
      t = performance.now();
      // What `npm run audit:verify -- --database-url` runs.
      expectOk(await verifyDatabase(url, pub), "verify from the database");
      verifyRates.push(EVENTS / ((performance.now() - t) / 1000));
      t = performance.now();
      expectOk(await verifyDatabase(url, pub, { workers: 2 }), "verify from the database, 2 workers");
      verifyWorkers.push(EVENTS / ((performance.now() - t) / 1000));

      t = performance.now();
      let lines = 0;
      let carry: Buffer = Buffer.alloc(0);
      for await (const chunk of createReadStream(exportFile, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
        let pos = 0;
        for (let nl = buf.indexOf(10, pos); nl >= 0; nl = buf.indexOf(10, pos)) {
          createHash("sha256").update(buf.subarray(pos, nl)).digest();
          lines += 1;
          pos = nl + 1;
        }
        carry = buf.subarray(pos);
      }
      fileHashOnly.push(lines / ((performance.now() - t) / 1000));
      t = performance.now();
      // What `npm run audit:verify -- --export` runs.
      expectOk(await verifyExport(exportFile, pub), "verify the export file");
      fileRates.push(EVENTS / ((performance.now() - t) / 1000));
      t = performance.now();
      expectOk(await verifyExport(auditorFile, pub), "verify the auditor's export file");
      auditorFileRates.push(EVENTS / ((performance.now() - t) / 1000));
    }
    await hashClient.end();
    t = performance.now();
    const rawText = new pg.Client({ connectionString: url, types: RAW_TEXT });
    await rawText.connect();
    const query = async (sql: string, params: unknown[]) => (await rawText.query(sql, params)).rows as Record<string, unknown>[];
    expectOk(await verifyChain(readEvents(query), await readCheckpoints(query), publicKey, key.keyId), "reference verifier");
    const referenceRate = EVENTS / ((performance.now() - t) / 1000);
    await rawText.end();
    const runs = (xs: number[]) => `runs ${xs.map((x) => fmt(x, 0)).join(" / ")}`;
    row("database, baseline: binary COPY + one sha256 per row", `${fmt(median(hashOnly), 0)} /s`);
    row("database, verify (audit:verify), median", `${fmt(median(verifyRates), 0)} /s`, `(target >= 100,000) ${runs(verifyRates)}`);
    row("database, verify with 2 worker threads, median", `${fmt(median(verifyWorkers), 0)} /s`, runs(verifyWorkers));
    row("database, reference verifier (1 run)", `${fmt(referenceRate, 0)} /s`, "(verifyChain over pg rows)");
    row("export file, baseline: read lines + one sha256 each", `${fmt(median(fileHashOnly), 0)} /s`);
    row("export file, verify (audit:verify --export), median", `${fmt(median(fileRates), 0)} /s`, `(target >= 100,000) ${runs(fileRates)}`);
    row("auditor's export file, verify, median", `${fmt(median(auditorFileRates), 0)} /s`, runs(auditorFileRates));
    console.log(`  ${machine()}`);
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
