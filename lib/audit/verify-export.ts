// Verifies a complete NDJSON export (`npm run audit:verify -- --export`) with nothing but the public key. Reads the
// file as bytes, line by line, and recomputes each event's hash from the line's bytes (export-event-line.ts); a line
// the fast path does not take, or whose hash or link does not match, is read with parseExportLine and checked by
// the reference code (chain-cursor.ts), so the answers are verifyChain's. An auditor's export holds other tenants'
// events as redacted lines (hashes only), checked by their version-2 rule; it may start after a signed checkpoint
// instead of at event 1 (export-format.ts, startsAfter). Pure apart from reading the file.
import { isUtf8 } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";
import { F } from "./binary-event-row";
import { CanonicalWriter } from "./canonical-writer";
import { GENESIS_HASH } from "./chain";
import { ChainCursor } from "./chain-cursor";
import { LineSpans, writeCanonicalExportLine } from "./export-event-line";
import { type ExportHeader, parseExportLine } from "./export-format";
import { type Anchors, checkCheckpoints, checkEnd, type KnownHashes, type StoredCheckpoint, type VerifyResult } from "./verify-chain";

const NEWLINE = 0x0a;

/** A filtered export cannot be verified at all: an error (exit 2) that says why, not a FAIL. */
function notVerifiable(filters: Record<string, string>): Error {
  const by = Object.entries(filters).map(([k, v]) => `${k} ${v}`);
  return new Error(
    by.length
      ? `this export is filtered (${by.join(", ")}): only an export without filters verifies end to end; download one without filters`
      : "this export holds only some events and not the hashes of the others (an auditor's export from an earlier version): download a new export without filters",
  );
}

interface Header {
  complete: boolean;
  headSeq: bigint;
  /** Version 3 on: the exporter signed the head before exporting, so headSeq is its newest checkpoint's lastSeq. */
  signsHead: boolean;
  filters: Record<string, string>;
  startsAfter: { checkpoint: bigint; seq: bigint } | null;
}

const DECIMAL = /^(0|[1-9]\d{0,18})$/;
const decimal = (v: unknown): bigint | null => (typeof v === "string" && DECIMAL.test(v) ? BigInt(v) : null);

/** The header's fields the verifier relies on, or the reason it cannot. */
function readHeader(h: ExportHeader): Header | string {
  const headSeq = decimal(h.headSeq);
  if (headSeq === null) return "the header does not say which event the export runs to (headSeq)";
  let startsAfter: Header["startsAfter"] = null;
  if (h.startsAfter !== undefined) {
    const checkpoint = decimal(h.startsAfter?.checkpoint);
    const seq = decimal(h.startsAfter?.seq);
    if (checkpoint === null || seq === null) return "the header's startsAfter is not a checkpoint number and event";
    startsAfter = { checkpoint, seq };
  }
  const filters = h.filters !== null && typeof h.filters === "object" ? Object.fromEntries(Object.entries(h.filters).map(([k, v]) => [k, String(v)])) : {};
  return { complete: h.complete === true, headSeq, signsHead: Number(h.version) >= 3, filters, startsAfter };
}

export async function verifyExport(file: string, key: { publicKey: KeyObject; keyId: string }, anchors: Anchors = new Map()): Promise<VerifyResult> {
  const checkpoints: StoredCheckpoint[] = [];
  // From the header, which must come first: whether the export is complete, how far it runs, where it starts.
  // (Typed through their initialisers: they are set in the line callback, which TypeScript's narrowing here does
  // not see.)
  let header = null as Header | null;
  let sorted: StoredCheckpoint[] = [];
  let expectedAt: KnownHashes = new Map();
  let cursor = null as ChainCursor | null;
  let failure: VerifyResult | null = null;
  let lineNo = 0;
  const writer = new CanonicalWriter();
  const spans = new LineSpans();
  const expectedSeq = () => (cursor?.last()?.seq ?? header?.startsAfter?.seq ?? 0n) + 1n;

  /**
   * The checkpoints are all read once the first event comes (or the file ends): check them, and find where the
   * chain starts. Returns false, with the failure set, when the answer is known.
   */
  const open = (): boolean => {
    if (!header!.complete) throw notVerifiable(header!.filters);
    const cps = checkCheckpoints(checkpoints, key.publicKey, key.keyId, anchors);
    if (!cps.ok) {
      failure = cps;
      return false;
    }
    sorted = cps.sorted;
    expectedAt = cps.expectedAt;
    let start = { seq: 0n, hash: GENESIS_HASH };
    const after = header!.startsAfter;
    if (after) {
      // The chain picks up at the hash this (verified) checkpoint signed: nothing before it is in the file.
      const c = sorted.find((x) => x.number === after.checkpoint);
      if (!c || c.lastSeq !== after.seq) {
        failure = { ok: false, events: 0, reason: `the header says the export starts after checkpoint ${after.checkpoint} (event ${after.seq}), which is not among its checkpoints` };
        return false;
      }
      start = { seq: c.lastSeq, hash: c.lastHash };
      const before = [...anchors.keys()].find((seq) => seq <= c.lastSeq);
      if (before !== undefined) {
        failure = {
          ok: false,
          events: 0,
          seq: before,
          reason: `event ${before}: not in this export, which starts after event ${c.lastSeq}; check that anchor against a complete export of the whole record (an administrator's)`,
        };
        return false;
      }
    }
    cursor = new ChainCursor(expectedAt, start);
    return true;
  };

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
      const h = readHeader(parsed.header);
      if (typeof h === "string") return fail(`line ${lineNo}: ${h}`);
      header = h;
      return true;
    }
    // The header says how far the export runs: without it, a file cut short could not be told from a whole one.
    if (!header) return fail(`line ${lineNo}: not the header of an export (the first line must be)`);
    if (parsed.kind === "checkpoint") {
      if (cursor) return fail(`line ${lineNo}: a checkpoint after the events (lines were moved or files joined)`);
      checkpoints.push(parsed.checkpoint);
      return true;
    }
    // Checkpoints come before events in an export: the first event closes them.
    if (!cursor && !open()) return false;
    if (parsed.kind === "redacted" ? cursor!.checkRedacted(parsed.event) : cursor!.check(parsed.event)) return true;
    const { index, ...problem } = cursor!.problem!;
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
  if (!cursor && !open()) return failure!;
  const count = cursor!.count;
  const next = expectedSeq();
  const checked = checkEnd(sorted, count, next, expectedAt, "file");
  if (!checked.ok) return checked;
  const from = (header.startsAfter?.seq ?? 0n) + 1n;
  const end = { ...checked, from, redacted: cursor!.redacted };
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
  // The header is not signed: whoever cuts the file can edit its head to match. The newest checkpoint is signed,
  // and an export signs its head before it is made (export-audit-events.ts), so its last event must be the one the
  // newest checkpoint signed. Exports made before that (version 2 and older) may end in unsigned events: the
  // command says that nothing protects those.
  const newest = sorted.at(-1);
  const signedThrough = newest?.lastSeq ?? 0n;
  if (header.signsHead && last !== signedThrough) {
    const first = signedThrough + 1n;
    const signer = newest
      ? `its newest checkpoint, ${newest.number}, signed the chain only through event ${newest.lastSeq}`
      : "it holds no checkpoint";
    return {
      ok: false,
      events: Number(first - from),
      seq: first,
      reason: `event ${first}: not signed; the file ends at event ${last} but ${signer}, while an export signs its last event when it is made: events (and the checkpoint that signed them) were cut`,
    };
  }
  return end;
}
