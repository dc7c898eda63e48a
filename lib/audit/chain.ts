// The tamper-evidence rules, shared by the writer (record-audit-event.ts), the checkpointer and the verifier
// (scripts/audit-verify.ts). Pure: no database, no server-only, so the verifier can run anywhere with only the
// public key. INVARIANT: writer and verifier must hash byte-identical canonical forms; change this file only with
// a new `v` and keep verifying the old one.
import { createHash, hash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);
/**
 * The rule the writer hashes new events with (hashEvent); events keep the version they were written with, and the
 * verifier applies each event's own. 1: sha256(prevHash || canonical). 2: sha256(prevHash || sha256(canonical)),
 * so an event can be shown as its content hash alone (another tenant's, in an auditor's export) and the chain still
 * recomputes through it.
 */
export const CHAIN_VERSION = 2;

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
  /** The hash rule the event was written with (CHAIN_VERSION at the time); part of the canonical form as "v". */
  chainVersion: number;
}

/**
 * A string as PostgreSQL will store it: its UTF-8, where a lone surrogate (half of a UTF-16 pair, which JavaScript
 * strings may hold) becomes U+FFFD. The writer hashes what will be stored; hashing the lone surrogate instead made
 * such an event fail verification, and in a JSON column PostgreSQL refused it outright (failing the change).
 */
export function wellFormed(s: string): string {
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATES, "\ufffd") : s;
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

/**
 * JSON values as PostgreSQL's jsonb gives them back (no undefined, dates as strings, strings well-formed), so hashes
 * survive a round trip.
 */
export function normalizeJson(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value);
  // JSON.stringify writes a lone surrogate as an escape (\udXXX): only then is a pass over the strings needed.
  return JSON.parse(text, /\\ud[89a-f]/i.test(text) ? wellFormedReviver : undefined) as unknown;
}
function wellFormedReviver(this: Record<string, unknown>, key: string, v: unknown): unknown {
  if (typeof v === "string") v = wellFormed(v);
  const fixed = wellFormed(key);
  if (fixed !== key && this !== null && typeof this === "object") {
    // A key with a lone surrogate: move the value to the well-formed key (the reviver's return value goes to `key`).
    this[fixed] = v;
    return undefined;
  }
  return v;
}

/**
 * RFC 8785 (JCS) canonical JSON of a JSON value: object keys sorted by UTF-16 code units, no whitespace, strings and
 * numbers serialised as ECMAScript's JSON.stringify does (which is what JCS specifies). Hand-written rather than the
 * `canonicalize` package because verification runs it a million times; chain.test.ts checks both agree.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return str(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return canonicalJson((value as { toJSON: () => unknown }).toJSON()); // Dates, as JSON.stringify would
  }
  // Plain loops rather than map/filter/join: this runs for every JSON column of every event verified.
  let out: string;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  out = "{";
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${out.length > 1 ? "," : ""}${str(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

// JSON.stringify of a short string costs more than the rest of canonicalEvent together; most strings need no
// escaping (no quote, backslash, control character or surrogate), and for those quoting is the same result.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const str = (v: string | null): string => (v === null ? "null" : NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`);
/** JSON.stringify of a string (or null), faster for the common string that needs no escaping. */
export const jsonString = str;
/** JSON of a string known to need no escaping. */
const quote = (v: string | null): string => (v === null ? "null" : `"${v}"`);

/**
 * Canonical JSON of the event, with bigint and Date written as decimal and ISO-8601 strings. The keys below are
 * already in JCS order (sorted), so only the nested JSON values need sorting.
 */
export function canonicalEvent(e: ChainedEvent): string {
  // One escape test over all the strings instead of one per field (the usual case: none needs escaping).
  const q = NEEDS_ESCAPE.test(
    `${e.actorId}${e.actorLabel}${e.actorType}${e.applicationId}${e.customerId}${e.environmentId}${e.id}${e.ip}${e.objectId}` +
      `${e.objectType}${e.prevHash}${e.releaseId}${e.requestId}${e.summary}${e.type}${e.userAgent}`,
  )
    ? str
    : quote;
  return (
    `{"actorId":${q(e.actorId)},"actorLabel":${q(e.actorLabel)},"actorType":${q(e.actorType)}` +
    `,"after":${canonicalJson(e.after ?? null)},"applicationId":${q(e.applicationId)}` +
    `,"before":${canonicalJson(e.before ?? null)},"customerId":${q(e.customerId)}` +
    `,"data":${canonicalJson(e.data ?? null)},"environmentId":${q(e.environmentId)},"id":${q(e.id)}` +
    `,"ip":${q(e.ip)},"objectId":${q(e.objectId)},"objectType":${q(e.objectType)}` +
    `,"occurredAt":"${e.occurredAt.toISOString()}","prevHash":${q(e.prevHash)},"releaseId":${q(e.releaseId)}` +
    `,"requestId":${q(e.requestId)},"seq":"${e.seq.toString()}","summary":${q(e.summary)},"type":${q(e.type)}` +
    `,"userAgent":${q(e.userAgent)},"v":${e.chainVersion}}`
  );
}

/**
 * The event's hash, by the rule of its chainVersion; the first event chains to 32 zero bytes.
 *  - 1: sha256(prevHash bytes || canonical UTF-8)
 *  - 2: sha256(prevHash bytes || contentHash bytes), contentHash = sha256(canonical UTF-8)
 * Any other version has no rule: "", which no stored hash equals.
 */
export function hashEvent(e: ChainedEvent): string {
  if (e.chainVersion === 2) return linkHash(e.prevHash, contentHash(e));
  if (e.chainVersion !== 1) return "";
  // One-shot hashing over a reused buffer: a Hash object per event (createHash/update/digest) cost as much as the
  // canonical form itself when verifying a million events.
  const canonical = canonicalEvent(e);
  // Room for the prevHash bytes and the UTF-8 (at most 3 bytes per UTF-16 code unit), so nothing is cut short.
  const size = (e.prevHash.length >>> 1) + canonical.length * 3;
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, scratch.length * 2));
  const prev = scratch.write(e.prevHash, 0, "hex"); // the same bytes as Buffer.from(prevHash, "hex")
  const used = prev + scratch.write(canonical, prev, "utf8");
  return hash("sha256", scratch.subarray(0, used), "hex");
}
let scratch = Buffer.allocUnsafe(4096);

/** sha256 of the event's canonical UTF-8, hex: what a version-2 hash covers of the event itself. */
export function contentHash(e: ChainedEvent): string {
  return hash("sha256", canonicalEvent(e), "hex");
}

/** sha256(prevHash bytes || contentHash bytes), hex: a version-2 event's hash from the hash before it and its content's. */
export function linkHash(prevHash: string, content: string): string {
  // Exactly 32 bytes each: Buffer's hex decoding would stop quietly at a bad digit or run on past 32 bytes.
  if (!HEX64.test(prevHash) || !HEX64.test(content)) return "";
  link.write(prevHash, 0, "hex");
  link.write(content, 32, "hex");
  return hash("sha256", link, "hex");
}
const link = Buffer.allocUnsafe(64);
const HEX64 = /^[0-9a-f]{64}$/;

/** What a checkpoint signs: the head of the event chain at `lastSeq`, linked to the previous checkpoint. */
export interface CheckpointPayload {
  number: bigint;
  createdAt: Date;
  lastSeq: bigint;
  lastHash: string;
  prevCheckpointHash: string;
  keyId: string;
}

// Checkpoints are still signed over their version-1 form: chain version 2 changed how events are hashed, not what a
// checkpoint says, and every signature already made must keep verifying.
const CHECKPOINT_VERSION = 1;

export function canonicalCheckpoint(c: CheckpointPayload): string {
  return canonicalJson({
    v: CHECKPOINT_VERSION,
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
