// Seeds a large, valid audit chain quickly: events are hashed in order exactly as recordAuditEvent would hash them
// (lib/audit/chain.ts), then inserted a few thousand rows per statement. The result verifies like a real history.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { CHAIN_VERSION, type ChainedEvent, GENESIS_HASH, hashEvent } from "../../lib/audit/chain";
import { AUDIT_EVENT_TYPES } from "../../lib/audit/event-types";

export interface SeedShape {
  applicationIds: string[];
  environmentIds: string[][];
  releaseIds: string[];
  actors: string[];
}

const TYPES = Object.keys(AUDIT_EVENT_TYPES);

/** The i-th event of a benchmark history (a small JSON detail), as recordAuditEvent would write it after `prevHash`. */
export function benchmarkEvent(
  i: number,
  o: Pick<ChainedEvent, "occurredAt" | "type" | "actorLabel" | "applicationId" | "environmentId" | "releaseId" | "prevHash" | "chainVersion">,
): ChainedEvent {
  return {
    seq: BigInt(i + 1),
    id: randomUUID(),
    actorType: "USER",
    actorId: null,
    customerId: null,
    objectType: "Release",
    objectId: String(i),
    summary: `benchmark event ${i}`,
    before: null,
    after: { step: i % 7, ok: i % 3 === 0 },
    data: null,
    ip: "127.0.0.1",
    userAgent: "bench",
    requestId: null,
    ...o,
  };
}
const BATCH = 5000;

export async function seedAuditEvents(url: string, count: number, shape: SeedShape, onProgress?: (n: number) => void): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const start = Date.parse("2025-11-22T00:00:00Z");
    const span = 365 * 24 * 3600 * 1000;
    let prevHash = GENESIS_HASH;
    for (let base = 0; base < count; base += BATCH) {
      const cols: unknown[][] = Array.from({ length: 23 }, () => []);
      for (let i = base; i < Math.min(count, base + BATCH); i++) {
        const a = i % shape.applicationIds.length;
        const envs = shape.environmentIds[a]!;
        const e = benchmarkEvent(i, {
          occurredAt: new Date(start + Math.floor((i / count) * span)),
          type: TYPES[i % TYPES.length]!,
          actorLabel: shape.actors[i % shape.actors.length]!,
          applicationId: shape.applicationIds[a]!,
          environmentId: envs[i % envs.length]!,
          releaseId: shape.releaseIds[i % shape.releaseIds.length]!,
          prevHash,
          chainVersion: CHAIN_VERSION,
        });
        const hash = hashEvent(e);
        prevHash = hash;
        const values = [e.seq.toString(), e.id, e.occurredAt.toISOString(), e.type, e.actorType, e.actorId, e.actorLabel, e.customerId, e.applicationId,
          e.environmentId, e.releaseId, e.objectType, e.objectId, e.summary, null, JSON.stringify(e.after), null, e.ip, e.userAgent, e.requestId, e.prevHash, hash, e.chainVersion];
        values.forEach((v, k) => cols[k]!.push(v));
      }
      await client.query(
        `INSERT INTO "AuditEvent" ("seq","id","occurredAt","type","actorType","actorId","actorLabel","customerId","applicationId","environmentId",
          "releaseId","objectType","objectId","summary","before","after","data","ip","userAgent","requestId","prevHash","hash","chainVersion")
         SELECT s, i, (o::timestamptz AT TIME ZONE 'UTC'), t, at::"ActorType", ai, al, ci, ap, en, re, ot, oi, su, b::jsonb, af::jsonb, d::jsonb, ip, ua, rq, ph, h, v
         FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::uuid[], $10::uuid[],
                     $11::uuid[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[],
                     $21::text[], $22::text[], $23::smallint[])
           AS x(s, i, o, t, at, ai, al, ci, ap, en, re, ot, oi, su, b, af, d, ip, ua, rq, ph, h, v)`,
        cols,
      );
      onProgress?.(Math.min(count, base + BATCH));
    }
    await client.query(`ANALYZE "AuditEvent"`);
  } finally {
    await client.end();
  }
}
