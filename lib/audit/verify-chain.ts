// Recomputes the audit chain and its signed checkpoints. Pure apart from reading the iterables it is given, so the
// same code verifies the live database (scripts/audit-verify.ts) and an export file, with only the public key.
import { type KeyObject, verify } from "node:crypto";
import { type ChainedEvent, type CheckpointPayload, canonicalCheckpoint, GENESIS_HASH, hashCheckpoint, hashEvent } from "./chain";

export type StoredEvent = ChainedEvent & { hash: string };
export type StoredCheckpoint = CheckpointPayload & { signature: string; hash: string };

export type VerifyResult =
  | {
      ok: true;
      events: number;
      checkpoints: number;
      /** Highest seq covered by a valid signature (0 when there is no checkpoint). */
      signedThroughSeq: bigint;
      lastCheckpointAt: Date | null;
    }
  | { ok: false; events: number; seq?: bigint; checkpoint?: bigint; reason: string };

export type VerifyFailure = Extract<VerifyResult, { ok: false }>;

/** What the event loop needs from the checkpoints: the hash each one signed, by the seq it signed at. */
export type CheckpointsAt = Map<bigint, { number: bigint; lastHash: string }>;

/**
 * Checks the checkpoints on their own: numbered 1..n, each linked to the previous, signed by `publicKey`, and never
 * covering less than the one before. Returns them in order, or the first problem.
 */
export function checkCheckpoints(
  checkpoints: StoredCheckpoint[],
  publicKey: KeyObject,
  keyId: string,
): { ok: true; sorted: StoredCheckpoint[]; expectedAt: CheckpointsAt } | VerifyFailure {
  const sorted = [...checkpoints].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  let prevCheckpointHash = GENESIS_HASH;
  let prevLastSeq = 0n;
  const expectedAt: CheckpointsAt = new Map();
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
    expectedAt.set(c.lastSeq, { number: c.number, lastHash: c.lastHash });
  }
  return { ok: true, sorted, expectedAt };
}

/** A problem with one event: the seq to report and the message (both part of the verifier's contract). */
export interface EventProblem {
  seq: bigint;
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

/** The checks of one event on its own: its hash recomputes, and it is what a checkpoint at its seq signed. */
export function checkEventContent(e: StoredEvent, expectedAt: CheckpointsAt): EventProblem | null {
  if (hashEvent(e) !== e.hash) return { seq: e.seq, reason: `event ${e.seq}: content does not match its hash (changed after it was written)` };
  const c = expectedAt.get(e.seq);
  if (c && c.lastHash !== e.hash) {
    return { seq: e.seq, reason: `event ${e.seq}: differs from what checkpoint ${c.number} signed (history rewritten and re-hashed)` };
  }
  return null;
}

/** After the last event: a checkpoint that signed further than the chain now reaches means events were deleted. */
export function checkEnd(sorted: StoredCheckpoint[], events: number, expectedSeq: bigint): VerifyResult {
  const last = sorted.at(-1);
  if (last && last.lastSeq >= expectedSeq) {
    return {
      ok: false,
      events,
      seq: expectedSeq,
      checkpoint: last.number,
      reason: `event ${expectedSeq}: missing; checkpoint ${last.number} signed the chain up to event ${last.lastSeq} (events were deleted from the end)`,
    };
  }
  return { ok: true, events, checkpoints: sorted.length, signedThroughSeq: last?.lastSeq ?? 0n, lastCheckpointAt: last?.createdAt ?? null };
}

/**
 * Verifies, in one pass over events ordered by seq:
 *  - contiguity: seq runs 1, 2, 3, ... with no gap (a deleted row) and nothing out of order;
 *  - links: each prevHash is the previous event's hash (the first links to 32 zero bytes);
 *  - content: each hash recomputes from the canonical form (a changed row);
 *  - checkpoints: numbered 1..n, each linked to the previous, signed by `publicKey`, and naming the hash the chain
 *    really has at its lastSeq (so even a re-hashed rewrite of history is caught up to the last checkpoint).
 * Stops at the first problem and says where. verify-database.ts gives the same answers with the hashing spread
 * over worker threads; verify-database.int.test.ts holds the two to that.
 */
export async function verifyChain(
  events: AsyncIterable<StoredEvent>,
  checkpoints: StoredCheckpoint[],
  publicKey: KeyObject,
  keyId: string,
): Promise<VerifyResult> {
  const cps = checkCheckpoints(checkpoints, publicKey, keyId);
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
  return checkEnd(cps.sorted, count, expectedSeq);
}
