// Reading audit rows with plain SQL, shared by the auditor search (through Prisma's raw queries), the checkpoint reads
// and the tests' reference reader (through a bare pg client), so all see exactly the same columns. Keyset pagination
// by seq keeps memory flat at any size. The export and the verifier read events by binary COPY instead
// (binary-event-row.ts), and their tests compare the two readings.
import type pg from "pg";
import type { StoredCheckpoint, StoredEvent } from "./verify-chain";

/** pg types that hand every column over as the text PostgreSQL sends: the readers here parse what they need. */
export const RAW_TEXT = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export const EVENT_COLUMNS = `"seq", "id", "occurredAt", "type", "actorType"::text AS "actorType", "actorId", "actorLabel", "customerId"::text AS "customerId",
  "applicationId"::text AS "applicationId", "environmentId"::text AS "environmentId", "releaseId"::text AS "releaseId", "objectType", "objectId",
  "summary", "before"::text AS "before", "after"::text AS "after", "data"::text AS "data", "ip", "userAgent", "requestId", "prevHash", "hash", "chainVersion"`;

export const CHECKPOINT_COLUMNS = `"number", "createdAt", "lastSeq", "lastHash", "prevCheckpointHash", "keyId", "signature", "hash"`;

type Raw = Record<string, unknown>;

const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(String(v)));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
// timestamp(3) columns hold UTC without a zone; a driver may hand them over as strings or as Dates.
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(`${String(v).replace(" ", "T")}Z`));
// The JSON columns are selected as text, so every driver hands over JSON text: parsing it once is right whatever the
// value (a driver's own jsonb parsing would make a JSON string value indistinguishable from JSON text).
const json = (v: unknown): unknown => (typeof v === "string" ? (JSON.parse(v) as unknown) : (v ?? null));

export function toStoredEvent(r: Raw): StoredEvent {
  return {
    seq: big(r.seq),
    id: String(r.id),
    occurredAt: date(r.occurredAt),
    type: String(r.type),
    actorType: String(r.actorType),
    actorId: str(r.actorId),
    actorLabel: String(r.actorLabel),
    customerId: str(r.customerId),
    applicationId: str(r.applicationId),
    environmentId: str(r.environmentId),
    releaseId: str(r.releaseId),
    objectType: String(r.objectType),
    objectId: str(r.objectId),
    summary: String(r.summary),
    before: json(r.before),
    after: json(r.after),
    data: json(r.data),
    ip: str(r.ip),
    userAgent: str(r.userAgent),
    requestId: str(r.requestId),
    prevHash: String(r.prevHash),
    hash: String(r.hash),
    chainVersion: Number(r.chainVersion),
  };
}

export function toStoredCheckpoint(r: Raw): StoredCheckpoint {
  return {
    number: big(r.number),
    createdAt: date(r.createdAt),
    lastSeq: big(r.lastSeq),
    lastHash: String(r.lastHash),
    prevCheckpointHash: String(r.prevCheckpointHash),
    keyId: String(r.keyId),
    signature: String(r.signature),
    hash: String(r.hash),
  };
}

/** A query function: SQL with $1.. placeholders and its parameters, returning rows. */
export type RawQuery = (sql: string, params: unknown[]) => Promise<Raw[]>;

/** Every event with seq in (after, through], in order, fetched a page at a time. */
export async function* readEvents(query: RawQuery, options: { after?: bigint; through?: bigint; pageSize?: number } = {}): AsyncGenerator<StoredEvent> {
  const pageSize = options.pageSize ?? 5000;
  let after = options.after ?? 0n;
  const through = options.through ?? 9223372036854775807n;
  for (;;) {
    const rows = await query(
      `SELECT ${EVENT_COLUMNS} FROM "AuditEvent" WHERE "seq" > $1 AND "seq" <= $2 ORDER BY "seq" LIMIT ${pageSize}`,
      [after.toString(), through.toString()],
    );
    for (const r of rows) yield toStoredEvent(r);
    if (rows.length < pageSize) return;
    after = big(rows[rows.length - 1]!.seq);
  }
}

export async function readCheckpoints(query: RawQuery, throughSeq?: bigint): Promise<StoredCheckpoint[]> {
  const rows = await query(
    `SELECT ${CHECKPOINT_COLUMNS} FROM "AuditCheckpoint" WHERE "lastSeq" <= $1 ORDER BY "number"`,
    [(throughSeq ?? 9223372036854775807n).toString()],
  );
  return rows.map(toStoredCheckpoint);
}
