// CPU time per event of the audit record's hot loops, in this process and without PostgreSQL: the rows of a binary
// COPY are built in memory (as PostgreSQL sends them, test/audit-events.ts) and go through the verifier's batch check
// (verify-batch.ts, what `audit:verify --database-url` runs per row) and the export's line writers (an
// administrator's export, and an auditor's where 95% of the rows become redacted lines with a content hash); the
// written NDJSON files go through `audit:verify --export`'s verifier. Measured as process CPU time, not wall time:
// on a shared machine the wall time of `npm run bench -- audit` moves by 2-3x with the load, CPU per event by about
// 10%, and CPU per event is what a change to these loops changes. Version-2 rows (the writer's) and version-1 rows
// (records begun before version 2) are measured apart: version 2 costs one more sha256 per event.
// Run: npm run bench -- audit-cpu      Prints figures; asserts nothing.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { binaryCopy, binaryRow } from "../test/audit-events";
import { EVENT_COPY_FIELDS, F } from "../lib/audit/binary-event-row";
import { CanonicalWriter } from "../lib/audit/canonical-writer";
import { GENESIS_HASH, hashEvent } from "../lib/audit/chain";
import { CopyBinaryReader } from "../lib/audit/copy-binary-reader";
import { writeEventLine, writeRedactedLine } from "../lib/audit/export-row-writer";
import { JsonBytes } from "../lib/audit/json-bytes";
import { checkBatch } from "../lib/audit/verify-batch";
import type { StoredEvent } from "../lib/audit/verify-chain";
import { verifyExport } from "../lib/audit/verify-export";
import { benchmarkEvent } from "./lib/seed-audit";
import { fmt, median, row } from "./lib/stats";

const N = Number(process.env.AUDIT_CPU_EVENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** Events shaped like the audit benchmark's (bench/lib/seed-audit.ts): 100 applications, a small JSON detail. */
function chainOf(version: number, applications: string[]): StoredEvent[] {
  const out: StoredEvent[] = [];
  let prevHash = GENESIS_HASH;
  const start = Date.parse("2025-11-22T00:00:00Z");
  for (let i = 0; i < N; i++) {
    const e = benchmarkEvent(i, {
      occurredAt: new Date(start + i * 1000),
      type: "DEPLOYMENT_STEP_FINISHED",
      actorLabel: `person${i % 200}@example.test`,
      applicationId: applications[i % applications.length]!,
      environmentId: randomUUID(),
      releaseId: randomUUID(),
      prevHash,
      chainVersion: version,
    });
    const hash = hashEvent(e);
    out.push({ ...e, hash });
    prevHash = hash;
  }
  return out;
}

/** µs of this process's CPU per event that `f` takes. */
async function cpuPerEvent(f: () => Promise<void> | void): Promise<number> {
  global.gc?.();
  const t = process.cpuUsage();
  await f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
}

/** The rows through a line writer, as the export streams them: the NDJSON bytes. */
function writeLines(chunks: Buffer[], write: (out: JsonBytes, buf: Buffer, start: Int32Array, end: Int32Array) => void): Buffer {
  const parts: Buffer[] = [];
  let out = new JsonBytes();
  const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, start, end) => write(out, buf, start, end));
  for (const c of chunks) {
    reader.push(c);
    if (out.length >= 65536) {
      parts.push(out.buf.subarray(0, out.length));
      out = new JsonBytes();
    }
  }
  reader.finish();
  parts.push(out.buf.subarray(0, out.length));
  return Buffer.concat(parts);
}

async function main(): Promise<void> {
  console.log(`\naudit hot loops, CPU time per event (µs; median of ${RUNS} runs over ${fmt(N, 0)} events; no PostgreSQL)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), "releasegate-bench-cpu-"));
  try {
    const applications = Array.from({ length: 100 }, () => randomUUID());
    // An auditor of 5 of the 100 applications sees 5% of the events in full.
    const audited = new Set(applications.slice(0, 5).map((a) => a.replace(/-/g, "")));
    const header = `${JSON.stringify({ kind: "releasegate-audit-export", version: 2, exportedAt: new Date().toISOString(), complete: true, filters: {}, headSeq: String(N) })}\n`;
    const key = { publicKey: null as never, keyId: "" }; // no checkpoints here: the key is never used
    for (const version of [2, 1]) {
      const stream = binaryCopy(chainOf(version, applications).map((e) => binaryRow(e)));
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));
      const admin = path.join(dir, `admin-v${version}.ndjson`);
      const auditor = path.join(dir, `auditor-v${version}.ndjson`);
      const scratch = new CanonicalWriter();
      const auditorLine = (out: JsonBytes, buf: Buffer, start: Int32Array, end: Int32Array) => {
        // The exporter has PostgreSQL flag the audited rows; here the application id decides.
        const s = start[F.applicationId]!;
        if (s >= 0 && audited.has(buf.toString("hex", s, s + 16))) writeEventLine(out, buf, start, end);
        else writeRedactedLine(out, scratch, buf, start, end);
      };
      await writeFile(admin, Buffer.concat([Buffer.from(header), writeLines(chunks, writeEventLine)]));
      await writeFile(auditor, Buffer.concat([Buffer.from(header), writeLines(chunks, auditorLine)]));
      const figures: Record<string, number[]> = {};
      const add = (label: string, x: number) => (figures[label] ??= []).push(x);
      for (let r = 0; r < RUNS; r++) {
        add("verify rows (--database-url)", await cpuPerEvent(async () => {
          const copy = async function* () {
            yield* chunks;
          };
          const b = await checkBatch(() => copy(), { id: 0, after: 0n, limit: null }, new Map(), true);
          if (b.count !== N || b.problem) throw new Error(`verify: ${b.problem?.reason}`);
        }));
        add("admin export: write lines", await cpuPerEvent(() => void writeLines(chunks, writeEventLine)));
        add("admin export: verify (--export)", await cpuPerEvent(async () => {
          const v = await verifyExport(admin, key);
          if (!v.ok || v.events !== N) throw new Error(`verify the file: ${v.ok ? v.events : v.reason}`);
        }));
        if (version === 2) {
          add("auditor export (95% hashes): write", await cpuPerEvent(() => void writeLines(chunks, auditorLine)));
          add("auditor export: verify (--export)", await cpuPerEvent(async () => {
            const v = await verifyExport(auditor, key);
            if (!v.ok || v.events !== N) throw new Error(`verify the auditor's file: ${v.ok ? v.events : v.reason}`);
          }));
        }
      }
      for (const [label, xs] of Object.entries(figures)) row(`version ${version}: ${label}`, `${fmt(median(xs), 2)} µs`, `runs ${xs.map((x) => fmt(x, 2)).join(" / ")}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
