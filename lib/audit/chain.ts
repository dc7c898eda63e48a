// The tamper-evidence rules, shared by the writer (record-audit-event.ts), the checkpointer and the verifier
// (scripts/audit-verify.ts). Pure: no database, no server-only, so the verifier can run anywhere with only the
// public key. INVARIANT: writer and verifier must hash byte-identical canonical forms; change this file only with
// a new `v` and keep verifying the old one.
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

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

/** RFC 8785 (JCS) canonical JSON of the event. bigint and Date are written as decimal and ISO-8601 strings. */
export function canonicalEvent(e: ChainedEvent): string {
  const out = canonicalize({
    v: CHAIN_VERSION,
    seq: e.seq.toString(),
    id: e.id,
    occurredAt: e.occurredAt.toISOString(),
    type: e.type,
    actorType: e.actorType,
    actorId: e.actorId,
    actorLabel: e.actorLabel,
    customerId: e.customerId,
    applicationId: e.applicationId,
    environmentId: e.environmentId,
    releaseId: e.releaseId,
    objectType: e.objectType,
    objectId: e.objectId,
    summary: e.summary,
    before: normalizeJson(e.before),
    after: normalizeJson(e.after),
    data: normalizeJson(e.data),
    ip: e.ip,
    userAgent: e.userAgent,
    requestId: e.requestId,
    prevHash: e.prevHash,
  });
  if (out === undefined) throw new Error("audit event is not serialisable");
  return out;
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
  return canonicalize({
    v: CHAIN_VERSION,
    number: c.number.toString(),
    createdAt: c.createdAt.toISOString(),
    lastSeq: c.lastSeq.toString(),
    lastHash: c.lastHash,
    prevCheckpointHash: c.prevCheckpointHash,
    keyId: c.keyId,
  })!;
}

/** The hash that the next checkpoint links to: covers the payload and its signature. */
export function hashCheckpoint(c: CheckpointPayload, signature: string): string {
  return createHash("sha256").update(canonicalCheckpoint(c), "utf8").update(signature, "utf8").digest("hex");
}
