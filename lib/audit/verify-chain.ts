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

/**
 * Verifies, in one pass over events ordered by seq:
 *  - contiguity: seq runs 1, 2, 3, ... with no gap (a deleted row) and nothing out of order;
 *  - links: each prevHash is the previous event's hash (the first links to 32 zero bytes);
 *  - content: each hash recomputes from the canonical form (a changed row);
 *  - checkpoints: numbered 1..n, each linked to the previous, signed by `publicKey`, and naming the hash the chain
 *    really has at its lastSeq (so even a re-hashed rewrite of history is caught up to the last checkpoint).
 * Stops at the first problem and says where.
 */
export async function verifyChain(
  events: AsyncIterable<StoredEvent>,
  checkpoints: StoredCheckpoint[],
  publicKey: KeyObject,
  keyId: string,
): Promise<VerifyResult> {
  const sorted = [...checkpoints].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  let prevCheckpointHash = GENESIS_HASH;
  let prevLastSeq = 0n;
  const expectedAt = new Map<bigint, StoredCheckpoint>();
  for (const [i, c] of sorted.entries()) {
    const fail = (reason: string): VerifyResult => ({ ok: false, events: 0, checkpoint: c.number, reason: `checkpoint ${c.number}: ${reason}` });
    if (c.number !== BigInt(i + 1)) return fail(`expected checkpoint number ${i + 1} (a checkpoint is missing or duplicated)`);
    if (c.keyId !== keyId) return fail(`signed by key ${c.keyId.slice(0, 16)}…, not by the public key given (${keyId.slice(0, 16)}…)`);
    const valid = verify(null, Buffer.from(canonicalCheckpoint(c), "utf8"), publicKey, Buffer.from(c.signature, "base64"));
    if (!valid) return fail("signature does not verify (forged or altered checkpoint)");
    if (c.prevCheckpointHash !== prevCheckpointHash) return fail("does not link to the previous checkpoint");
    if (hashCheckpoint(c, c.signature) !== c.hash) return fail("stored hash does not match its content");
    if (c.lastSeq < prevLastSeq) return fail("covers less of the chain than the checkpoint before it");
    prevCheckpointHash = c.hash;
    prevLastSeq = c.lastSeq;
    expectedAt.set(c.lastSeq, c);
  }

  let expectedSeq = 1n;
  let prevHash = GENESIS_HASH;
  let count = 0;
  for await (const e of events) {
    const fail = (reason: string): VerifyResult => ({ ok: false, events: count, seq: e.seq, reason: `event ${e.seq}: ${reason}` });
    if (e.seq !== expectedSeq) {
      return e.seq > expectedSeq
        ? { ok: false, events: count, seq: expectedSeq, reason: `event ${expectedSeq}: missing (deleted?); the next event present is ${e.seq}` }
        : fail(`out of order (expected ${expectedSeq})`);
    }
    if (e.prevHash !== prevHash) return fail("does not link to the event before it (prevHash differs)");
    if (hashEvent(e) !== e.hash) return fail("content does not match its hash (changed after it was written)");
    const c = expectedAt.get(e.seq);
    if (c && c.lastHash !== e.hash) {
      return fail(`differs from what checkpoint ${c.number} signed (history rewritten and re-hashed)`);
    }
    prevHash = e.hash;
    expectedSeq += 1n;
    count += 1;
  }
  const last = sorted.at(-1);
  if (last && last.lastSeq >= expectedSeq) {
    return {
      ok: false,
      events: count,
      seq: expectedSeq,
      checkpoint: last.number,
      reason: `event ${expectedSeq}: missing; checkpoint ${last.number} signed the chain up to event ${last.lastSeq} (events were deleted from the end)`,
    };
  }
  return { ok: true, events: count, checkpoints: sorted.length, signedThroughSeq: last?.lastSeq ?? 0n, lastCheckpointAt: last?.createdAt ?? null };
}
