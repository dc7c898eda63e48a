// One batch of the database verification (verify-database.ts): the `limit` events after seq `after`, read with a
// binary COPY and checked in the calling thread (a worker thread, or the main one). Pure apart from the COPY stream
// it is given, so it is testable without threads.
import { EVENT_COPY_COLUMNS, EVENT_COPY_FIELDS, F, rowSeq, storedEventFromBinaryRow, writeCanonicalBinaryRow } from "./binary-event-row";
import { CanonicalWriter } from "./canonical-writer";
import { ChainCursor } from "./chain-cursor";
import { CopyBinaryReader } from "./copy-binary-reader";
import type { KnownHashes, EventProblem } from "./verify-chain";

export interface BatchRequest {
  id: number;
  /** The batch holds the events after this seq... */
  after: bigint;
  /** ...at most this many (null: all of them). A batch that returns fewer is the last one. */
  limit: number | null;
}

/**
 * What the main thread needs to continue the sequential verification across a batch without seeing its events:
 * the first event (to check it against the batch before), the last (for the next batch), and the first problem
 * inside the batch. INVARIANT: `problem` is what verifyChain would report for the event at `index`, provided the
 * first event passed checkEventOrder against the batch before.
 */
export interface BatchSummary {
  id: number;
  count: number;
  /** Whether the batch returned every row it asked for (so more may follow). */
  full: boolean;
  first: { seq: bigint; prevHash: string } | null;
  last: { seq: bigint; hash: string } | null;
  problem: (EventProblem & { index: number }) | null;
}

/** Runs a `COPY ... TO STDOUT` and yields its data; the caller's connection must be in the verification snapshot. */
export type CopyOut = (sql: string) => AsyncIterable<Buffer>;

export const batchSql = (r: BatchRequest): string =>
  `COPY (SELECT ${EVENT_COPY_COLUMNS} FROM "AuditEvent" WHERE "seq" > ${r.after.toString()} ORDER BY "seq"${r.limit === null ? "" : ` LIMIT ${r.limit}`}) TO STDOUT (FORMAT binary)`;

/**
 * `fast`: whether the rows' text is valid UTF-8, as PostgreSQL guarantees in a UTF8 database. The fast path copies
 * text bytes as they are, the reference decodes them; in a SQL_ASCII database (any bytes) only the reference runs.
 */
export async function checkBatch(copy: CopyOut, request: BatchRequest, expectedAt: KnownHashes, fast = true): Promise<BatchSummary> {
  // The first event's order and link are checked by the caller, which knows the batch before.
  const cursor = new ChainCursor(expectedAt, null);
  const writer = new CanonicalWriter();
  const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, start, end) => {
    if (cursor.problem) return;
    const seq = rowSeq(buf, start, end);
    const ps = start[F.prevHash]!;
    const pe = end[F.prevHash]!;
    const hs = start[F.hash]!;
    if (fast && cursor.follows(seq, buf, ps, pe) && writeCanonicalBinaryRow(writer, buf, start, end) && writer.digestMatches(buf, hs, end[F.hash]!)) {
      cursor.accept(seq, buf, ps, pe, hs);
    } else cursor.check(storedEventFromBinaryRow(buf, start, end));
  });
  for await (const chunk of copy(batchSql(request))) {
    // After a problem the rest is only drained: the answer is known, and leaving mid-COPY would break the connection.
    if (!cursor.problem) reader.push(chunk);
  }
  if (!cursor.problem) reader.finish();
  const rows = reader.rows;
  return {
    id: request.id,
    count: cursor.count,
    full: cursor.problem !== null || (request.limit !== null && rows >= request.limit),
    first: cursor.first,
    last: cursor.last(),
    problem: cursor.problem,
  };
}
