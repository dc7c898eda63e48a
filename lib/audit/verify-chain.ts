// Recomputes the audit chain and its signed checkpoints. Pure apart from reading the iterables it is given, so the
// same code verifies the live database (scripts/audit-verify.ts) and an export file, with only the public key.
import { type KeyObject, verify } from "node:crypto";
import { type ChainedEvent, type CheckpointPayload, canonicalCheckpoint, GENESIS_HASH, hashCheckpoint, hashEvent, linkHash } from "./chain";

export type StoredEvent = ChainedEvent & { hash: string };
export type StoredCheckpoint = CheckpointPayload & { signature: string; hash: string };

/**
 * An event shown only as its hashes (another tenant's, in an auditor's export): for chain version 2, its hash is
 * sha256(prevHash || contentHash), so the chain recomputes through it without its content.
 */
export interface RedactedEvent {
  seq: bigint;
  chainVersion: number;
  contentHash: string;
  prevHash: string;
  hash: string;
}

export type VerifyResult =
  | {
      ok: true;
      events: number;
      checkpoints: number;
      /** Highest seq covered by a valid signature (0 when there is no checkpoint). */
      signedThroughSeq: bigint;
      /** The hash of event signedThroughSeq (what an auditor keeps as an anchor), null when there is no checkpoint. */
      signedThroughHash: string | null;
      lastCheckpointAt: Date | null;
      /** The seqs of the anchors given, all of which held. */
      anchorsHeld: bigint[];
      /** The first event verified: 1, or the one after the checkpoint an auditor's export starts after. */
      from: bigint;
      /** How many of the events were shown as hashes only (RedactedEvent). */
      redacted: number;
    }
  | {
      ok: false;
      events: number;
      seq?: bigint;
      checkpoint?: bigint;
      /** Where a change lies when only that much can be told (a re-hashed rewrite between two known hashes). */
      range?: { first: bigint; last: bigint };
      /**
       * The chain's hash at an anchor's seq is not the anchor's: a mistyped anchor as likely as a rewrite, so there
       * is no "first bad event" to name (the reason says both).
       */
      anchorDiffers?: true;
      reason: string;
    };

export type VerifyFailure = Extract<VerifyResult, { ok: false }>;

/**
 * Hashes an auditor gave on the command line (`--anchor N:HASH`), by seq: kept outside Releasegate from an earlier
 * run, they catch what no signature can, a history cut off (newest checkpoint included) and grown back past N.
 */
export type Anchors = Map<bigint, string>;

/**
 * A hash the chain must have at a seq: the one a checkpoint signed there, and/or the one an anchor names.
 * `since` is the nearest seq before it where a hash is known as well (0 for none), with what knows it: when the
 * chain disagrees here but agreed there, the change lies in events since+1..seq, and nothing can say more precisely
 * which (every event in between verifies on its own after a re-hash).
 */
export interface KnownHash {
  checkpoint: { number: bigint; lastHash: string } | null;
  anchor: string | null;
  since: bigint;
  sinceLabel: string | null;
}

/** What the event loop needs to know besides the events: the known hashes, by seq. */
export type KnownHashes = Map<bigint, KnownHash>;

/**
 * Checks the checkpoints on their own: numbered 1..n, each linked to the previous, signed by `publicKey`, and never
 * covering less than the one before. Returns them in order with the hashes the chain must have (theirs and the
 * anchors'), or the first problem.
 */
export function checkCheckpoints(
  checkpoints: StoredCheckpoint[],
  publicKey: KeyObject,
  keyId: string,
  anchors: Anchors = new Map(),
): { ok: true; sorted: StoredCheckpoint[]; expectedAt: KnownHashes } | VerifyFailure {
  const sorted = [...checkpoints].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  let prevCheckpointHash = GENESIS_HASH;
  let prevLastSeq = 0n;
  const signed = new Map<bigint, { number: bigint; lastHash: string }>();
  for (const [i, c] of sorted.entries()) {
    const fail = (reason: string): VerifyFailure => ({ ok: false, events: 0, checkpoint: c.number, reason: `checkpoint ${c.number}: ${reason}` });
    if (c.number !== BigInt(i + 1)) return fail(`expected checkpoint number ${i + 1} (a checkpoint is missing or duplicated)`);
    if (c.keyId !== keyId) return fail(`signed by key ${c.keyId.slice(0, 16)}…, not by the public key given (${keyId.slice(0, 16)}…)`);
    const valid = verify(null, Buffer.from(canonicalCheckpoint(c), "utf8"), publicKey, Buffer.from(c.signature, "base64"));
    if (!valid) return fail("signature does not verify (forged or altered checkpoint)");
    if (c.prevCheckpointHash !== prevCheckpointHash) return fail("does not link to the previous checkpoint");
    if (hashCheckpoint(c, c.signature) !== c.hash) return fail("stored hash does not match its content");
    if (c.lastSeq < prevLastSeq) return fail("covers less of the chain than the checkpoint before it");
    prevCheckpointHash = c.hash;
    prevLastSeq = c.lastSeq;
    signed.set(c.lastSeq, { number: c.number, lastHash: c.lastHash });
  }
  return { ok: true, sorted, expectedAt: knownHashes(signed, anchors) };
}

function knownHashes(signed: Map<bigint, { number: bigint; lastHash: string }>, anchors: Anchors): KnownHashes {
  const seqs = [...new Set([...signed.keys(), ...anchors.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const known: KnownHashes = new Map();
  let since = 0n;
  let sinceLabel: string | null = null;
  for (const seq of seqs) {
    const checkpoint = signed.get(seq) ?? null;
    known.set(seq, { checkpoint, anchor: anchors.get(seq) ?? null, since, sinceLabel });
    since = seq;
    sinceLabel = checkpoint ? `checkpoint ${checkpoint.number} (through event ${seq})` : `your anchor at event ${seq}`;
  }
  return known;
}

/** A problem with one event: the seq to report and the message (both part of the verifier's contract). */
export interface EventProblem {
  seq: bigint;
  /** Set when the problem is only known to lie somewhere in these events. */
  range?: { first: bigint; last: bigint };
  anchorDiffers?: true;
  reason: string;
}

/**
 * The checks that need the event before it: contiguity (`expectedSeq`) and the link (`prevHash`). Split from
 * checkEventContent so a batch verified on another thread can have its first event checked against the batch
 * before it (verify-database.ts). Sequential verification runs checkEventOrder, then checkEventContent.
 */
export function checkEventOrder(e: { seq: bigint; prevHash: string }, expectedSeq: bigint, prevHash: string): EventProblem | null {
  if (e.seq !== expectedSeq) {
    return e.seq > expectedSeq
      ? { seq: expectedSeq, reason: `event ${expectedSeq}: missing (deleted?); the next event present is ${e.seq}` }
      : { seq: e.seq, reason: `event ${e.seq}: out of order (expected ${expectedSeq})` };
  }
  if (e.prevHash !== prevHash) return { seq: e.seq, reason: `event ${e.seq}: does not link to the event before it (prevHash differs)` };
  return null;
}

/** The checks of one event on its own: its hash recomputes, and it is the hash known at its seq, if one is. */
export function checkEventContent(e: StoredEvent, expectedAt: KnownHashes): EventProblem | null {
  if (e.chainVersion !== 1 && e.chainVersion !== 2) {
    return { seq: e.seq, reason: `event ${e.seq}: claims chain version ${e.chainVersion}, which has no hash rule (changed after it was written?)` };
  }
  if (hashEvent(e) !== e.hash) return { seq: e.seq, reason: `event ${e.seq}: content does not match its hash (changed after it was written)` };
  return checkKnownHash(e.seq, e.hash, expectedAt);
}

/**
 * The checks of an event shown as hashes only: its hash is sha256(prevHash || contentHash), and it is the hash known
 * at its seq, if one is. (The exporter computed contentHash from the event as stored, so an event changed in the
 * database, or moved to another application to hide it from its auditor, fails here.)
 */
export function checkRedactedContent(e: RedactedEvent, expectedAt: KnownHashes): EventProblem | null {
  if (e.chainVersion !== 2) {
    return {
      seq: e.seq,
      reason: `event ${e.seq}: shown as hashes only, but written with chain version ${e.chainVersion}, whose hash covers the whole event: it cannot be checked without it`,
    };
  }
  if (linkHash(e.prevHash, e.contentHash) !== e.hash) {
    return {
      seq: e.seq,
      reason: `event ${e.seq}: shown as hashes only, its hash does not follow from the event before it and its content hash (changed after it was written)`,
    };
  }
  return checkKnownHash(e.seq, e.hash, expectedAt);
}

/**
 * Whether the chain's hash at `seq` is the one a checkpoint signed and an anchor names there. A re-hashed rewrite
 * (or a history cut off and written anew) verifies event by event, so all that shows is the first known hash that
 * disagrees: the change lies after the known hash before it, and the report says so rather than naming one event.
 */
export function checkKnownHash(seq: bigint, hash: string, expectedAt: KnownHashes): EventProblem | null {
  const k = expectedAt.get(seq);
  if (!k) return null;
  const first = k.since + 1n;
  const range = { first, last: seq };
  if (k.checkpoint && k.checkpoint.lastHash !== hash) {
    const n = k.checkpoint.number;
    const events = first === seq ? `event ${seq} was` : `events ${first}..${seq} were`;
    return {
      seq: first,
      range,
      reason: `${events} changed after checkpoint ${n} was signed (history rewritten and re-hashed, or cut off and written anew): event ${seq} is not what checkpoint ${n} signed${k.sinceLabel ? `, while ${k.sinceLabel} still matches` : ""}`,
    };
  }
  if (k.anchor !== null && k.anchor !== hash) {
    // The anchor was copied by a person, through tickets and emails: a mistyped digit is as likely as a rewrite,
    // and only the person can tell which. Both hashes side by side, and where they part, let them check.
    const record = `  event ${seq} in the record:`;
    const digit = [...hash].findIndex((c, i) => c !== k.anchor![i]) + 1;
    const where = first === seq ? `event ${seq}` : `events ${first}..${seq}, each of which verifies on its own`;
    return {
      seq: first,
      range,
      anchorDiffers: true,
      reason: [
        `event ${seq}'s hash in the record differs from the anchor you passed`,
        `${record} ${hash}`,
        `${`  your --anchor ${seq}:`.padEnd(record.length)} ${k.anchor}`,
        `  (they first differ at hex digit ${digit})`,
        `First check that you copied the anchor exactly. If you did, the history up to event ${seq} was rewritten after you took the anchor ` +
          `(changed and re-hashed, or cut off and written anew): the change lies in ${where}${k.sinceLabel ? `; ${k.sinceLabel} still matches` : ""}.`,
      ].join("\n"),
    };
  }
  return null;
}

/**
 * After the last event: a checkpoint that signed further than the chain now reaches means events were deleted (from
 * the database, or cut from an export file: `of`); so does an anchor beyond it, for a cut that took the newest
 * checkpoints too.
 */
export function checkEnd(
  sorted: StoredCheckpoint[],
  events: number,
  expectedSeq: bigint,
  expectedAt: KnownHashes = new Map(),
  of: "database" | "file" = "database",
): VerifyResult {
  const last = sorted.at(-1);
  if (last && last.lastSeq >= expectedSeq) {
    const ends = expectedSeq === 1n ? "the file holds no event" : `the file ends at event ${expectedSeq - 1n}`;
    return {
      ok: false,
      events,
      seq: expectedSeq,
      checkpoint: last.number,
      reason:
        of === "file"
          ? `event ${expectedSeq}: missing; ${ends} but checkpoint ${last.number} signed the chain through event ${last.lastSeq}: events were cut`
          : `event ${expectedSeq}: missing; checkpoint ${last.number} signed the chain up to event ${last.lastSeq} (events were deleted from the end)`,
    };
  }
  const anchors = [...expectedAt].filter(([, k]) => k.anchor !== null).map(([seq]) => seq);
  const beyond = anchors.find((seq) => seq >= expectedSeq);
  if (beyond !== undefined) {
    return {
      ok: false,
      events,
      seq: expectedSeq,
      reason: `event ${expectedSeq}: missing; your anchor names event ${beyond} (history was cut off after you took it)`,
    };
  }
  return {
    ok: true,
    events,
    checkpoints: sorted.length,
    signedThroughSeq: last?.lastSeq ?? 0n,
    signedThroughHash: last?.lastHash ?? null,
    lastCheckpointAt: last?.createdAt ?? null,
    anchorsHeld: anchors,
    from: 1n,
    redacted: 0,
  };
}

/**
 * Verifies, in one pass over events ordered by seq:
 *  - contiguity: seq runs 1, 2, 3, ... with no gap (a deleted row) and nothing out of order;
 *  - links: each prevHash is the previous event's hash (the first links to 32 zero bytes);
 *  - content: each hash recomputes from the canonical form (a changed row);
 *  - checkpoints: numbered 1..n, each linked to the previous, signed by `publicKey`, and naming the hash the chain
 *    really has at its lastSeq (so even a re-hashed rewrite of history is caught up to the last checkpoint);
 *  - anchors: the chain has the hash each names at its seq, and reaches it.
 * Stops at the first problem and says where. verify-database.ts gives the same answers with the hashing spread
 * over worker threads; verify-database.int.test.ts holds the two to that.
 */
export async function verifyChain(
  events: AsyncIterable<StoredEvent>,
  checkpoints: StoredCheckpoint[],
  publicKey: KeyObject,
  keyId: string,
  anchors: Anchors = new Map(),
): Promise<VerifyResult> {
  const cps = checkCheckpoints(checkpoints, publicKey, keyId, anchors);
  if (!cps.ok) return cps;
  let expectedSeq = 1n;
  let prevHash = GENESIS_HASH;
  let count = 0;
  for await (const e of events) {
    const problem = checkEventOrder(e, expectedSeq, prevHash) ?? checkEventContent(e, cps.expectedAt);
    if (problem) return { ok: false, events: count, ...problem };
    prevHash = e.hash;
    expectedSeq += 1n;
    count += 1;
  }
  return checkEnd(cps.sorted, count, expectedSeq, cps.expectedAt);
}
