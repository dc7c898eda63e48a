// Verifies a complete NDJSON export (`npm run audit:verify -- --export`) with nothing but the public key. Reads the
// file as bytes, line by line, and recomputes each event's hash from the line's bytes (export-event-line.ts); a line
// the fast path does not take, or whose hash or link does not match, is read with parseExportLine and checked by
// the reference code (chain-cursor.ts), so the answers are verifyChain's. Pure apart from reading the file.
import { isUtf8 } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";
import { F } from "./binary-event-row";
import { CanonicalWriter } from "./canonical-writer";
import { GENESIS_HASH } from "./chain";
import { ChainCursor } from "./chain-cursor";
import { LineSpans, writeCanonicalExportLine } from "./export-event-line";
import { parseExportLine } from "./export-format";
import { type Anchors, checkCheckpoints, checkEnd, type StoredCheckpoint, type VerifyResult } from "./verify-chain";

const NEWLINE = 0x0a;
// A filtered export cannot be verified at all: an error (exit 2), not a FAIL.
const FILTERED = "this export is filtered: only a complete export (all events) verifies end to end";

export async function verifyExport(file: string, key: { publicKey: KeyObject; keyId: string }, anchors: Anchors = new Map()): Promise<VerifyResult> {
  const checkpoints: StoredCheckpoint[] = [];
  // From the header, which must come first: whether the export is complete, and the last event it holds. (Typed
  // through its initialiser: it is set in the line callback, which TypeScript's narrowing here does not see.)
  let header = null as { complete: boolean; headSeq: bigint } | null;
  let sorted: StoredCheckpoint[] = [];
  let expectedAt: Extract<ReturnType<typeof checkCheckpoints>, { ok: true }>["expectedAt"] = new Map();
  let cursor = null as ChainCursor | null;
  let failure: VerifyResult | null = null;
  let lineNo = 0;
  const writer = new CanonicalWriter();
  const spans = new LineSpans();
  const expectedSeq = () => (cursor?.last()?.seq ?? 0n) + 1n;

  /** Handles line buf[s, e) (without its newline); false once the answer is known. */
  const line = (buf: Buffer, s: number, e: number): boolean => {
    lineNo += 1;
    if (e > s && buf[e - 1] === 0x0d) e -= 1; // CRLF, as readline reads it
    // The fast path copies string bytes as they are; the reference decodes them (invalid UTF-8 as U+FFFD), so a line
    // that is not valid UTF-8 is read the reference way.
    if (cursor && isUtf8(buf.subarray(s, e))) {
      const seq = writeCanonicalExportLine(writer, buf, s, e, spans);
      const ps = spans.start[F.prevHash]!;
      const pe = spans.end[F.prevHash]!;
      const hs = spans.start[F.hash]!;
      if (seq > 0 && cursor.follows(seq, buf, ps, pe) && writer.digestMatches(buf, hs, spans.end[F.hash]!)) {
        cursor.accept(seq, buf, ps, pe, hs);
        return true;
      }
    }
    const text = buf.toString("utf8", s, e);
    if (!text.trim()) return true;
    let parsed: ReturnType<typeof parseExportLine>;
    try {
      parsed = parseExportLine(text);
    } catch (err) {
      return fail(`line ${lineNo}: not a line of an export (${(err as Error).message})`);
    }
    if (parsed.kind === "header") {
      if (header) return fail(`line ${lineNo}: a second header (lines were moved or files joined)`);
      const headSeq = /^(0|[1-9]\d{0,18})$/.test(String(parsed.header.headSeq)) ? BigInt(String(parsed.header.headSeq)) : null;
      if (headSeq === null) return fail(`line ${lineNo}: the header does not say which event the export runs to (headSeq)`);
      header = { complete: parsed.header.complete === true, headSeq };
      return true;
    }
    // The header says how far the export runs: without it, a file cut short could not be told from a whole one.
    if (!header) return fail(`line ${lineNo}: not the header of an export (the first line must be)`);
    if (parsed.kind === "checkpoint") {
      if (cursor) return fail(`line ${lineNo}: a checkpoint after the events (lines were moved or files joined)`);
      checkpoints.push(parsed.checkpoint);
      return true;
    }
    if (!cursor) {
      // Checkpoints come before events in an export: the first event closes them.
      if (!header.complete) throw new Error(FILTERED);
      const cps = checkCheckpoints(checkpoints, key.publicKey, key.keyId, anchors);
      if (!cps.ok) {
        failure = cps;
        return false;
      }
      sorted = cps.sorted;
      expectedAt = cps.expectedAt;
      cursor = new ChainCursor(cps.expectedAt, { seq: 0n, hash: GENESIS_HASH });
    }
    if (cursor.check(parsed.event)) return true;
    const { index, ...problem } = cursor.problem!;
    failure = { ok: false, events: index, ...problem };
    return false;
  };
  const fail = (reason: string): boolean => {
    failure = { ok: false, events: cursor?.count ?? 0, ...(cursor ? { seq: expectedSeq() } : {}), reason };
    return false;
  };

  // Lines are cut out of the chunks where they lie; only a line split across two chunks is copied.
  let carry: Buffer | null = null;
  let going = true;
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let pos = 0;
      if (carry) {
        const nl = chunk.indexOf(NEWLINE);
        if (nl < 0) {
          carry = Buffer.concat([carry, chunk]);
          continue;
        }
        const joined = Buffer.concat([carry, chunk.subarray(0, nl)]);
        carry = null;
        going = line(joined, 0, joined.length);
        pos = nl + 1;
      }
      while (going) {
        const nl = chunk.indexOf(NEWLINE, pos);
        if (nl < 0) break;
        going = line(chunk, pos, nl);
        pos = nl + 1;
      }
      if (!going) break;
      carry = pos < chunk.length ? chunk.subarray(pos) : null;
    }
    if (going && carry) line(carry, 0, carry.length);
  } finally {
    stream.destroy();
  }
  if (failure) return failure;
  if (!header) return { ok: false, events: 0, reason: "the file is empty: not an export" };
  if (!cursor) {
    if (!header.complete) throw new Error(FILTERED);
    const cps = checkCheckpoints(checkpoints, key.publicKey, key.keyId, anchors);
    if (!cps.ok) return cps;
    sorted = cps.sorted;
    expectedAt = cps.expectedAt;
  }
  const count = cursor?.count ?? 0;
  const next = expectedSeq();
  const end = checkEnd(sorted, count, next, expectedAt);
  if (!end.ok) return end;
  // The file must hold every event up to the head its header names, and none after it. Signatures cannot tell a
  // file cut at a line boundary among events no checkpoint covers yet; the header's head can.
  const last = next - 1n;
  if (last < header.headSeq) {
    return {
      ok: false,
      events: count,
      seq: next,
      reason: `event ${next}: missing; the file ends after event ${last}, but its header says the export runs to event ${header.headSeq} (the file was cut short)`,
    };
  }
  if (last > header.headSeq) {
    const after = header.headSeq + 1n;
    return {
      ok: false,
      events: count - Number(last - header.headSeq),
      seq: after,
      reason: `event ${after}: after the export's head (its header says it runs to event ${header.headSeq})`,
    };
  }
  return end;
}
