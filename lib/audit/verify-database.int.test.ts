// The database verifier (verify-database.ts: binary COPY, the fast canonical path, optionally worker threads) must
// give exactly the answers of the plain sequential one (verifyChain over readEvents): same ok/fail, same first bad
// seq, same message, same count. Small batch sizes put the tampering on batch boundaries, where the main thread, not
// a worker, checks order and links. The last tests hold the fast path to PostgreSQL's real rows of random events.
import { generateKeyPairSync } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import fc from "fast-check";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { systemActor } from "../auth/actor";
import { migrateDatabase } from "../db/migrate";
import { PrismaClient } from "../db/generated/client";
import { createScratchDatabase, type ScratchDatabase } from "../../test/scratch-database";
import { canonicalEvent, hashEvent } from "./chain";
import { createCheckpoint } from "./create-checkpoint";
import { readCheckpoints, readEvents, type RawQuery } from "./event-rows";
import { recordAuditEvent } from "./record-audit-event";
import { keyIdOf, type SigningKey } from "./signing-key";
import { type Anchors, verifyChain } from "./verify-chain";
import { verifyDatabase } from "./verify-database";
import { batchSql } from "./verify-batch";
import { CanonicalWriter } from "./canonical-writer";
import { CopyBinaryReader } from "./copy-binary-reader";
import { EVENT_COPY_FIELDS, F, storedEventFromBinaryRow, writeCanonicalBinaryRow } from "./binary-event-row";
import { jsonValue, text } from "../../test/audit-events";

let scratch: ScratchDatabase;
let client: PrismaClient;
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const key: SigningKey = { privateKey, publicKeyPem: "", keyId: keyIdOf(publicKey) };
const pub = { publicKey, keyId: key.keyId };

async function writeEvents(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await client.$transaction((tx) =>
      recordAuditEvent(tx, systemActor("parallel verify test"), {
        type: "CUSTOMER_UPDATED",
        object: { type: "Customer", id: `c-${i}` },
        summary: `event ${i} "quoted" \u00e9`,
        after: { name: `Customer ${i}`, nested: { b: [1, 2.5], a: i % 2 === 0 } },
      }),
    );
  }
}

async function asSuperuser(sql: string): Promise<void> {
  await scratch.query(`BEGIN; ALTER TABLE "AuditEvent" DISABLE TRIGGER USER; ALTER TABLE "AuditCheckpoint" DISABLE TRIGGER USER; ${sql};
    ALTER TABLE "AuditEvent" ENABLE TRIGGER USER; ALTER TABLE "AuditCheckpoint" ENABLE TRIGGER USER; COMMIT`);
}

const q: RawQuery = async (sql, params) => (await scratch.query(sql, params)).rows as Record<string, unknown>[];
const sequential = async (anchors?: Anchors) => verifyChain(readEvents(q), await readCheckpoints(q), publicKey, key.keyId, anchors);

/** Both verifiers, over several batch sizes and worker counts; returns the sequential answer once all agree. */
async function bothAgree(anchors?: Anchors) {
  const expected = await sequential(anchors);
  // No workers: one COPY checked on the calling thread (the default); the others go through worker threads.
  for (const [batchSize, workers] of [[0, 0], [3, 2], [4, 3], [1000, 2]] as const) {
    expect(await verifyDatabase(scratch.url, pub, { batchSize: batchSize || undefined, workers, anchors }), `batch ${batchSize}, ${workers} workers`).toEqual(expected);
  }
  return expected;
}

beforeAll(async () => {
  scratch = await createScratchDatabase("paraverify");
  await migrateDatabase(scratch.url);
  client = new PrismaClient({ adapter: new PrismaPg({ connectionString: scratch.url, max: 2 }) });
}, 60_000);

afterAll(async () => {
  await client.$disconnect();
  await scratch.drop();
});

beforeEach(async () => {
  await asSuperuser(`DELETE FROM "AuditEvent"; DELETE FROM "AuditCheckpoint"`);
  await writeEvents(8);
  await createCheckpoint({ client, key });
  await writeEvents(5);
  await createCheckpoint({ client, key });
  await writeEvents(2);
}, 60_000);

describe("parallel verification from the database", () => {
  it("agrees on an untouched chain", async () => {
    expect(await bothAgree()).toMatchObject({ ok: true, events: 15, checkpoints: 2, signedThroughSeq: 13n });
  });

  it("agrees on an empty chain", async () => {
    await asSuperuser(`DELETE FROM "AuditEvent"; DELETE FROM "AuditCheckpoint"`);
    expect(await bothAgree()).toMatchObject({ ok: true, events: 0 });
  });

  it.each([1, 4, 5, 15])("agrees when event %i is changed", async (seq) => {
    await asSuperuser(`UPDATE "AuditEvent" SET "summary" = 'nothing happened' WHERE "seq" = ${seq}`);
    expect(await bothAgree()).toMatchObject({ ok: false, seq: BigInt(seq), events: seq - 1 });
  });

  it.each([1, 4, 5, 13])("agrees when event %i is deleted", async (seq) => {
    await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" = ${seq}`);
    expect(await bothAgree()).toMatchObject({ ok: false, seq: BigInt(seq) });
  });

  it("agrees when a whole run of events is deleted", async () => {
    await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" BETWEEN 4 AND 9`);
    expect(await bothAgree()).toMatchObject({ ok: false, seq: 4n, reason: "event 4: missing (deleted?); the next event present is 10" });
  });

  it("agrees when events are deleted from the end, signed or not", async () => {
    await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" >= 14`);
    expect(await bothAgree()).toMatchObject({ ok: true, events: 13 });
    await asSuperuser(`DELETE FROM "AuditEvent" WHERE "seq" >= 11`);
    expect(await bothAgree()).toMatchObject({ ok: false, seq: 11n, checkpoint: 2n });
  });

  it("agrees when a link is broken at a batch boundary", async () => {
    await asSuperuser(`UPDATE "AuditEvent" SET "prevHash" = '${"1".repeat(64)}' WHERE "seq" = 4`);
    expect(await bothAgree()).toMatchObject({ ok: false, seq: 4n });
  });

  it("agrees when history is rewritten and re-hashed", async () => {
    const events = [];
    for await (const e of readEvents(q)) events.push(e);
    let prev = events[4]!.hash;
    const statements: string[] = [];
    for (const e of events.slice(5)) {
      const changed = { ...e, summary: e.seq === 6n ? "rewritten" : e.summary, prevHash: prev };
      const hash = hashEvent(changed);
      statements.push(`UPDATE "AuditEvent" SET "summary" = '${changed.summary.replace(/'/g, "''")}', "prevHash" = '${prev}', "hash" = '${hash}' WHERE "seq" = ${e.seq}`);
      prev = hash;
    }
    await asSuperuser(statements.join(";\n"));
    expect(await bothAgree()).toMatchObject({
      ok: false,
      seq: 1n,
      range: { first: 1n, last: 8n },
      reason: expect.stringContaining("events 1..8 were changed after checkpoint 1 was signed"),
    });
  });

  it("agrees on anchors: held, differing (on a batch boundary or inside a batch) and beyond the chain", async () => {
    const hashes = new Map<bigint, string>();
    for await (const e of readEvents(q)) hashes.set(e.seq, e.hash);
    expect(await bothAgree(new Map([[4n, hashes.get(4n)!], [8n, hashes.get(8n)!], [15n, hashes.get(15n)!]]))).toMatchObject({ ok: true, anchorsHeld: [4n, 8n, 15n] });
    for (const seq of [4n, 6n, 11n]) {
      expect(await bothAgree(new Map([[seq, "e".repeat(64)]]))).toMatchObject({
        ok: false,
        range: { last: seq },
        reason: expect.stringContaining(`event ${seq}'s hash in the record differs from the anchor you passed`),
      });
    }
    expect(await bothAgree(new Map([[16n, "e".repeat(64)]]))).toMatchObject({ ok: false, seq: 16n, reason: expect.stringContaining("your anchor names event 16") });
  }, 120_000);

  it("agrees when a checkpoint is altered", async () => {
    await asSuperuser(`UPDATE "AuditCheckpoint" SET "lastHash" = '${"2".repeat(64)}' WHERE "number" = 2`);
    expect(await bothAgree()).toMatchObject({ ok: false, checkpoint: 2n });
  });

  it("agrees when one row claims a seq far beyond the chain (no batch per missing number)", async () => {
    await asSuperuser(`UPDATE "AuditEvent" SET "seq" = 9000000000000000000 WHERE "seq" = 15`);
    expect(await bothAgree()).toMatchObject({ ok: false, seq: 15n, reason: "event 15: missing (deleted?); the next event present is 9000000000000000000" });
  });
});

describe("the fast path on PostgreSQL's own rows", () => {
  // Anything a person or an agent could send, except NUL, which PostgreSQL refuses in text and jsonb alike.
  const noNul = (s: string) => s.replace(/\u0000/g, "");
  const clean = (v: unknown): unknown =>
    typeof v === "string" ? noNul(v) : Array.isArray(v) ? v.map(clean) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [noNul(k), clean(x)])) : v;
  const input = fc.record({
    summary: text.map(noNul),
    objectType: text.map(noNul),
    objectId: fc.option(text.map(noNul), { nil: undefined }),
    label: text.map(noNul),
    userAgent: fc.option(text.map(noNul), { nil: null }),
    before: jsonValue.map(clean),
    after: jsonValue.map(clean),
    data: jsonValue.map(clean),
  });

  it("recomputes the hash of every row of random events, as written by the real writer, without the reference code", async () => {
    await asSuperuser(`DELETE FROM "AuditEvent"; DELETE FROM "AuditCheckpoint"`);
    for (const i of fc.sample(input, { numRuns: 120, seed: 42 })) {
      await client.$transaction((tx) =>
        recordAuditEvent(tx, systemActor(i.label, { userAgent: i.userAgent }), {
          type: "CUSTOMER_UPDATED",
          object: { type: i.objectType, id: i.objectId },
          summary: i.summary,
          before: (i.before ?? undefined) as never,
          after: (i.after ?? undefined) as never,
          data: (i.data ?? undefined) as never,
        }),
      );
    }
    await createCheckpoint({ client, key });
    const c = new pg.Client({ connectionString: scratch.url });
    await c.connect();
    let rows = 0;
    try {
      const writer = new CanonicalWriter();
      const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, start, end) => {
        const e = storedEventFromBinaryRow(buf, start, end);
        expect(writeCanonicalBinaryRow(writer, buf, start, end), `event ${e.seq}`).toBe(true);
        expect(writer.canonical().toString("utf8")).toBe(canonicalEvent(e));
        expect(writer.digestMatches(buf, start[F.hash]!, end[F.hash]!), `event ${e.seq}`).toBe(true);
        rows += 1;
      });
      for await (const chunk of c.query(copyTo(batchSql({ id: 0, after: 0n, limit: null })))) reader.push(chunk as Buffer);
      reader.finish();
    } finally {
      await c.end();
    }
    expect(rows).toBe(120);
    expect(await bothAgree()).toMatchObject({ ok: true, events: 120, checkpoints: 1 });
  }, 120_000);
});
