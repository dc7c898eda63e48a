// One batch of the parallel database verification (verify-database.ts): the events with seq in (after, through],
// checked on a worker thread. Pure apart from the query it is given, so it is testable without threads.
import { EVENT_COLUMNS, toStoredEventFromColumns } from "./event-rows";
import { type CheckpointsAt, checkEventContent, checkEventOrder, type EventProblem } from "./verify-chain";

export interface BatchRequest {
  id: number;
  after: bigint;
  through: bigint;
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
  first: { seq: bigint; prevHash: string } | null;
  last: { seq: bigint; hash: string } | null;
  problem: (EventProblem & { index: number }) | null;
}

/** A query returning rows as arrays of raw column text (pg's rowMode "array"). */
export type ColumnsQuery = (sql: string, params: unknown[]) => Promise<unknown[][]>;

export const BATCH_SQL = `SELECT ${EVENT_COLUMNS} FROM "AuditEvent" WHERE "seq" > $1 AND "seq" <= $2 ORDER BY "seq"`;

export async function checkBatch(query: ColumnsQuery, request: BatchRequest, expectedAt: CheckpointsAt): Promise<BatchSummary> {
  let count = 0;
  let first: BatchSummary["first"] = null;
  let last: BatchSummary["last"] = null;
  // The whole range in one query: the caller sizes batches so that one fits in memory.
  for (const row of await query(BATCH_SQL, [request.after.toString(), request.through.toString()])) {
    const e = toStoredEventFromColumns(row);
    // The first event's order and link are checked by the caller, which knows the batch before.
    const problem = (last ? checkEventOrder(e, last.seq + 1n, last.hash) : null) ?? checkEventContent(e, expectedAt);
    first ??= { seq: e.seq, prevHash: e.prevHash };
    if (problem) return { id: request.id, count, first, last, problem: { ...problem, index: count } };
    last = { seq: e.seq, hash: e.hash };
    count += 1;
  }
  return { id: request.id, count, first, last, problem: null };
}
