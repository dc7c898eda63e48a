// verifyChain's per-event checks (order, link, content, checkpoints) for events read as bytes: rows of a binary COPY
// (verify-batch.ts) or lines of an export file (verify-export.ts). The fast path compares bytes; whatever it does not
// accept is checked again by the reference code (verify-chain.ts) on the decoded event, which gives the answer and
// its message, so both readers answer exactly as verifyChain does. Pure: no database, no server-only.
import {
  checkEventContent,
  checkEventOrder,
  checkRedactedContent,
  type EventProblem,
  type KnownHashes,
  type RedactedEvent,
  type StoredEvent,
} from "./verify-chain";

export class ChainCursor {
  problem: (EventProblem & { index: number }) | null = null;
  count = 0;
  /** How many of the events counted were shown as hashes only. */
  redacted = 0;
  first: { seq: bigint; prevHash: string } | null = null;
  // The last good event: its seq, and where its stored hash (64 hex digits) is. Nothing is copied: its buffer stays
  // alive as long as it is referenced here.
  private lastSeq = -1;
  private lastSeqBig = 0n;
  private lastBuf: Buffer | null = null;
  private lastHashAt = 0;
  private readonly knownSeqs: Set<number>;

  /**
   * `start`: the event before the first one (seq 0 and the genesis hash for a whole chain), or null when the first
   * event's order and link are checked by someone else (a batch: the caller knows the batch before).
   */
  constructor(
    private readonly expectedAt: KnownHashes,
    start: { seq: bigint; hash: string } | null,
  ) {
    this.knownSeqs = new Set([...expectedAt.keys()].filter((s) => s <= BigInt(Number.MAX_SAFE_INTEGER)).map(Number));
    if (start) this.remember(start.seq, Buffer.from(start.hash, "latin1"), 0);
  }

  /**
   * Whether an event with this seq (a positive safe integer, or -1) and this prevHash can take the fast path: it
   * follows the last good event and links to it, and no checkpoint or anchor names its hash (those go through the reference check).
   */
  follows(seq: number, buf: Buffer, prevStart: number, prevEnd: number): boolean {
    if (seq <= 0 || this.knownSeqs.has(seq)) return false;
    if (this.lastBuf === null) return true;
    return seq === this.lastSeq + 1 && prevEnd - prevStart === 64 && buf.compare(this.lastBuf, this.lastHashAt, this.lastHashAt + 64, prevStart, prevEnd) === 0;
  }

  /** An event the fast path checked completely (it follows, and its recomputed hash is the stored one at hashAt). */
  accept(seq: number, buf: Buffer, prevStart: number, prevEnd: number, hashAt: number): void {
    const big = BigInt(seq);
    this.first ??= { seq: big, prevHash: buf.toString("latin1", prevStart, prevEnd) };
    this.remember(big, buf, hashAt);
    this.count += 1;
  }

  /**
   * verifyChain's checks on the decoded event. Returns true and moves on when it passes; records the problem and
   * returns false when it does not.
   */
  check(e: StoredEvent): boolean {
    return this.checked(e, () => checkEventContent(e, this.expectedAt));
  }

  /** The same for an event shown as hashes only. */
  checkRedacted(e: RedactedEvent): boolean {
    const ok = this.checked(e, () => checkRedactedContent(e, this.expectedAt));
    if (ok) this.redacted += 1;
    return ok;
  }

  private checked(e: { seq: bigint; prevHash: string; hash: string }, content: () => EventProblem | null): boolean {
    const last = this.last();
    const problem = (last ? checkEventOrder(e, last.seq + 1n, last.hash) : null) ?? content();
    this.first ??= { seq: e.seq, prevHash: e.prevHash };
    if (problem) {
      this.problem = { ...problem, index: this.count };
      return false;
    }
    // The hash matched, so it is 64 lowercase hex digits: ASCII, the same in latin1.
    this.remember(e.seq, Buffer.from(e.hash, "latin1"), 0);
    this.count += 1;
    return true;
  }

  /** The last good event, for the check of what follows it. */
  last(): { seq: bigint; hash: string } | null {
    return this.lastBuf ? { seq: this.lastSeqBig, hash: this.lastBuf.toString("latin1", this.lastHashAt, this.lastHashAt + 64) } : null;
  }

  private remember(seq: bigint, buf: Buffer, hashAt: number): void {
    this.lastSeqBig = seq;
    this.lastSeq = seq >= 0n && seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : -1;
    this.lastBuf = buf;
    this.lastHashAt = hashAt;
  }
}
