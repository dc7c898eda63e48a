// The tamper-evidence rules, shared by the writer (record-audit-event.ts), the checkpointer and the verifier
// (scripts/audit-verify.ts). Pure: no database, no server-only, so the verifier can run anywhere with only the
// public key. INVARIANT: writer and verifier must hash byte-identical canonical forms; change this file only with
// a new `v` and keep verifying the old one.
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);
export const CHAIN_VERSION = 1;

/** The fields of an audit event that the hash covers: every column except the hash itself. */
export interface ChainedEvent {
  seq: bigint;
  id: string;
  occurredAt: Date;
  type: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  customerId: string | null;
  applicationId: string | null;
  environmentId: string | null;
  releaseId: string | null;
  objectType: string;
  objectId: string | null;
  summary: string;
  before: unknown;
  after: unknown;
  data: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  prevHash: string;
}

/** JSON values as PostgreSQL's jsonb gives them back (no undefined, dates as strings), so hashes survive a round trip. */
export function normalizeJson(value: unknown): unknown {
  return value === undefined || value === null ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

/**
 * RFC 8785 (JCS) canonical JSON of a JSON value: object keys sorted by UTF-16 code units, no whitespace, strings and
 * numbers serialised as ECMAScript's JSON.stringify does (which is what JCS specifies). Hand-written rather than the
 * `canonicalize` package because verification runs it a million times; chain.test.ts checks both agree.
 */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return canonicalJson((value as { toJSON: () => unknown }).toJSON()); // Dates, as JSON.stringify would
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

const str = (v: string | null): string => (v === null ? "null" : JSON.stringify(v));

/**
 * Canonical JSON of the event, with bigint and Date written as decimal and ISO-8601 strings. The keys below are
 * already in JCS order (sorted), so only the nested JSON values need sorting.
 */
export function canonicalEvent(e: ChainedEvent): string {
  return (
    `{"actorId":${str(e.actorId)},"actorLabel":${str(e.actorLabel)},"actorType":${str(e.actorType)}` +
    `,"after":${canonicalJson(e.after ?? null)},"applicationId":${str(e.applicationId)}` +
    `,"before":${canonicalJson(e.before ?? null)},"customerId":${str(e.customerId)}` +
    `,"data":${canonicalJson(e.data ?? null)},"environmentId":${str(e.environmentId)},"id":${str(e.id)}` +
    `,"ip":${str(e.ip)},"objectId":${str(e.objectId)},"objectType":${str(e.objectType)}` +
    `,"occurredAt":${str(e.occurredAt.toISOString())},"prevHash":${str(e.prevHash)},"releaseId":${str(e.releaseId)}` +
    `,"requestId":${str(e.requestId)},"seq":${str(e.seq.toString())},"summary":${str(e.summary)},"type":${str(e.type)}` +
    `,"userAgent":${str(e.userAgent)},"v":${CHAIN_VERSION}}`
  );
}

/** row_hash = sha256(prev_hash bytes || canonical bytes), hex. The first event chains to 32 zero bytes. */
export function hashEvent(e: ChainedEvent): string {
  return createHash("sha256").update(Buffer.from(e.prevHash, "hex")).update(canonicalEvent(e), "utf8").digest("hex");
}

/** What a checkpoint signs: the head of the event chain at `lastSeq`, linked to the previous checkpoint. */
export interface CheckpointPayload {
  number: bigint;
  createdAt: Date;
  lastSeq: bigint;
  lastHash: string;
  prevCheckpointHash: string;
  keyId: string;
}

export function canonicalCheckpoint(c: CheckpointPayload): string {
  return canonicalJson({
    v: CHAIN_VERSION,
    number: c.number.toString(),
    createdAt: c.createdAt.toISOString(),
    lastSeq: c.lastSeq.toString(),
    lastHash: c.lastHash,
    prevCheckpointHash: c.prevCheckpointHash,
    keyId: c.keyId,
  });
}

/** The hash that the next checkpoint links to: covers the payload and its signature. */
export function hashCheckpoint(c: CheckpointPayload, signature: string): string {
  return createHash("sha256").update(canonicalCheckpoint(c), "utf8").update(signature, "utf8").digest("hex");
}
