// Audit events as rows of PostgreSQL's binary COPY format (copy-binary-reader.ts), for the verifier and the export.
// Columns come in the canonical form's key order, then the stored hash and the chain version, each cast to the type
// this file decodes:
// a cast to the column's own type costs PostgreSQL nothing, and if someone changed a column's type the cast still
// hands over the representation read here (or fails), never bytes misread as another type.
// Pure: no database, no server-only.
import { CANONICAL_KEYS, type CanonicalWriter } from "./canonical-writer";
import type { StoredEvent } from "./verify-chain";

const CASTS: Record<(typeof CANONICAL_KEYS)[number] | "hash" | "chainVersion", string> = {
  actorId: "text", actorLabel: "text", actorType: "text", after: "jsonb", applicationId: "uuid", before: "jsonb", customerId: "uuid",
  data: "jsonb", environmentId: "uuid", id: "uuid", ip: "text", objectId: "text", objectType: "text", occurredAt: "timestamp(3)",
  prevHash: "text", releaseId: "uuid", requestId: "text", seq: "int8", summary: "text", type: "text", userAgent: "text", hash: "text",
  chainVersion: "int2",
};

// actorType is an enum: its binary form is its label, the same bytes as text, so it needs no cast (a cast to text
// would cost a conversion per row).
const cast = (k: keyof typeof CASTS): string => (k === "actorType" ? `"actorType"` : `"${k}"::${CASTS[k]}`);

const FIELDS = [...CANONICAL_KEYS, "hash", "chainVersion"] as const;
/** The SELECT list, in field order: the canonical keys, then the stored hash and the chain version. */
export const EVENT_COPY_COLUMNS = FIELDS.map(cast).join(", ");
export const EVENT_COPY_FIELDS = FIELDS.length;

// Field indexes (EVENT_COPY_COLUMNS order).
export const F = Object.fromEntries(FIELDS.map((k, i) => [k, i])) as Record<keyof typeof CASTS, number>;
/** The free-form JSON columns (jsonb: a version byte, then the text). */
export const JSON_FIELDS: ReadonlySet<number> = new Set([F.before, F.after, F.data]);

// PostgreSQL timestamps count microseconds from 2000-01-01 00:00 UTC.
const PG_EPOCH_MS = 946684800000;

/** Milliseconds since 1970 of a binary timestamp field, truncated to the millisecond as Date keeps it. */
export const binaryTimestampMs = (buf: Buffer, s: number): number => Number(buf.readBigInt64BE(s) / 1000n) + PG_EPOCH_MS;
const TWO_32 = 4294967296;

/** The row's seq when it is a positive safe integer (every real one is), else -1. */
export function rowSeq(buf: Buffer, start: Int32Array, end: Int32Array): number {
  const s = start[F.seq]!;
  if (s < 0 || end[F.seq]! - s !== 8) return -1;
  const hi = buf.readInt32BE(s);
  if (hi < 0 || hi >= 0x200000) return -1;
  return hi * TWO_32 + buf.readUInt32BE(s + 4);
}

/** The row's chain version (an int2), or 0 when the field is not one. */
export function rowVersion(buf: Buffer, start: Int32Array, end: Int32Array): number {
  const s = start[F.chainVersion]!;
  return s >= 0 && end[F.chainVersion]! - s === 2 ? buf.readInt16BE(s) : 0;
}

/** Milliseconds since 1970 of a binary timestamp field, or NaN when it is not a whole millisecond in Date's range. */
function timestampMs(buf: Buffer, s: number): number {
  const hi = buf.readInt32BE(s);
  // |microseconds| < 2^53, so the double below is exact (about 285 years either side of 2000).
  if (hi >= 0x200000 || hi < -0x200000) return NaN;
  const micros = hi * TWO_32 + buf.readUInt32BE(s + 4);
  return micros % 1000 === 0 ? micros / 1000 + PG_EPOCH_MS : NaN;
}

/**
 * Writes the canonical form of the event in this row (hash prefix included) through `w`. Returns false when a field
 * is not what the writer's events hold (a NULL where a value is required, a prevHash that is not 64 hex digits, a
 * time Date cannot hold, a seq beyond 2^53, a chain version without a rule): the caller then checks the row with the reference code instead
 * (storedEventFromBinaryRow + chain.ts), so such rows get exactly verifyChain's answer.
 */
export function writeCanonicalBinaryRow(w: CanonicalWriter, buf: Buffer, start: Int32Array, end: Int32Array): boolean {
  const seq = rowSeq(buf, start, end);
  if (seq < 0) return false;
  if (!w.prevHashBytes(buf, start[F.prevHash]!, end[F.prevHash]!)) return false;
  w.begin();
  for (let k = 0; k < CANONICAL_KEYS.length; k++) {
    w.next();
    const s = start[k]!;
    const e = end[k]!;
    switch (k) {
      case F.after:
      case F.before:
      case F.data:
        // jsonb's binary form: a version byte (1), then the value as text.
        if (s < 0) w.null();
        else if (buf[s] !== 1) return false;
        else w.jsonBytes(buf, s + 1, e);
        break;
      case F.applicationId:
      case F.customerId:
      case F.environmentId:
      case F.releaseId:
        if (s < 0) w.null();
        else w.uuid(buf, s);
        break;
      case F.id:
        if (s < 0) return false;
        w.uuid(buf, s);
        break;
      case F.occurredAt:
        if (s < 0 || !w.isoTime(timestampMs(buf, s))) return false;
        break;
      case F.seq:
        w.decimal(seq);
        break;
      case F.prevHash:
        w.plain(buf, s, e);
        break;
      case F.actorLabel:
      case F.actorType:
      case F.objectType:
      case F.summary:
      case F.type:
        if (s < 0) return false;
        w.text(buf, s, e);
        break;
      default:
        if (s < 0) w.null();
        else w.text(buf, s, e);
    }
  }
  return w.end(rowVersion(buf, start, end));
}

function uuidText(buf: Buffer, s: number): string {
  const h = buf.toString("hex", s, s + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The row as the reference code sees an event (verify-chain.ts): used for rows the fast path does not take and to
 * explain a row whose hash does not match. Values are those the earlier row-protocol reader produced from the text
 * forms (uuid::text, timestamp parsed as UTC, jsonb parsed, NOT NULL columns read with String()).
 */
export function storedEventFromBinaryRow(buf: Buffer, start: Int32Array, end: Int32Array): StoredEvent {
  const has = (f: number) => start[f]! >= 0;
  const text = (f: number): string | null => (has(f) ? buf.toString("utf8", start[f]!, end[f]!) : null);
  const required = (f: number): string => String(text(f));
  const uuid = (f: number): string | null => (has(f) ? uuidText(buf, start[f]!) : null);
  const json = (f: number): unknown => (has(f) ? (JSON.parse(buf.toString("utf8", start[f]! + 1, end[f]!)) as unknown) : null);
  return {
    seq: has(F.seq) ? buf.readBigInt64BE(start[F.seq]!) : 0n,
    id: String(uuid(F.id)),
    occurredAt: new Date(has(F.occurredAt) ? binaryTimestampMs(buf, start[F.occurredAt]!) : NaN),
    type: required(F.type),
    actorType: required(F.actorType),
    actorId: text(F.actorId),
    actorLabel: required(F.actorLabel),
    customerId: uuid(F.customerId),
    applicationId: uuid(F.applicationId),
    environmentId: uuid(F.environmentId),
    releaseId: uuid(F.releaseId),
    objectType: required(F.objectType),
    objectId: text(F.objectId),
    summary: required(F.summary),
    before: json(F.before),
    after: json(F.after),
    data: json(F.data),
    ip: text(F.ip),
    userAgent: text(F.userAgent),
    requestId: text(F.requestId),
    prevHash: required(F.prevHash),
    hash: required(F.hash),
    chainVersion: rowVersion(buf, start, end),
  };
}
