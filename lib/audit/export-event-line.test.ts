// The export lines: written from binary rows as eventLine / csvLine write them (export-row-writer.ts), and read back
// by the verifier's fast path (export-event-line.ts) into exactly the writer's canonical form. A fast path that took
// a line the reference reading (parseExportLine) reads differently would be a hole: the edited-line property checks
// that whatever it takes, the reference reads the same event.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { binaryCopy, binaryRow, storedEvent } from "../../test/audit-events";
import { EVENT_COPY_FIELDS, F, storedEventFromBinaryRow } from "./binary-event-row";
import { canonicalEvent, contentHash, hashEvent } from "./chain";
import { CanonicalWriter } from "./canonical-writer";
import { CopyBinaryReader } from "./copy-binary-reader";
import { LineSpans, writeCanonicalExportLine } from "./export-event-line";
import { csvLine, eventLine, parseExportLine, redactedLine } from "./export-format";
import { writeCsvLine, writeEventLine, writeRedactedLine } from "./export-row-writer";
import { JsonBytes } from "./json-bytes";
import type { StoredEvent } from "./verify-chain";

const writer = new CanonicalWriter();
const spans = new LineSpans();

/** The fast path on a line: its seq, canonical form and stored hash, or null when it leaves the line alone. */
function fast(line: string): { seq: number; canonical: string; hashOk: boolean; prevHash: string; hash: string } | null {
  const buf = Buffer.from(line, "utf8");
  const seq = writeCanonicalExportLine(writer, buf, 0, buf.length, spans);
  if (seq < 0) return null;
  return {
    seq,
    canonical: writer.canonical().toString("utf8"),
    hashOk: writer.digestMatches(buf, spans.start[F.hash]!, spans.end[F.hash]!),
    prevHash: buf.toString("utf8", spans.start[F.prevHash]!, spans.end[F.prevHash]!),
    hash: buf.toString("utf8", spans.start[F.hash]!, spans.end[F.hash]!),
  };
}

/**
 * The lines export-row-writer.ts writes for the event's binary row, and the event as read back from that row (its
 * JSON objects in jsonb's key order, which is the order CSV cells show them in).
 */
function exportedLines(e: StoredEvent): { ndjson: string; csv: string; readBack: StoredEvent } {
  const ndjson = new JsonBytes();
  const csv = new JsonBytes();
  let readBack: StoredEvent | undefined;
  const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, start, end) => {
    writeEventLine(ndjson, buf, start, end);
    writeCsvLine(csv, buf, start, end);
    readBack = storedEventFromBinaryRow(buf, start, end);
  });
  reader.push(binaryCopy([binaryRow(e)]));
  reader.finish();
  return { ndjson: ndjson.buf.toString("utf8", 0, ndjson.length), csv: csv.buf.toString("utf8", 0, csv.length), readBack: readBack! };
}

describe("export lines written from binary rows", () => {
  it("are the lines eventLine and csvLine write", () => {
    fc.assert(
      fc.property(storedEvent, (e) => {
        const { ndjson, csv, readBack } = exportedLines(e);
        expect(readBack).toEqual(e);
        expect(ndjson.endsWith("\n")).toBe(true);
        expect(parseExportLine(ndjson.slice(0, -1))).toEqual(parseExportLine(eventLine(e)));
        expect(csv).toBe(`${csvLine(readBack)}\n`);
      }),
      { numRuns: 1500 },
    );
  }, 60_000);
});

describe("redacted lines written from binary rows", () => {
  it("are redactedLine of the event, its content hash computed from the row", () => {
    const scratch = new CanonicalWriter();
    fc.assert(
      fc.property(storedEvent, (e) => {
        const out = new JsonBytes();
        const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, start, end) => writeRedactedLine(out, scratch, buf, start, end));
        reader.push(binaryCopy([binaryRow(e)]));
        reader.finish();
        const line = out.buf.toString("utf8", 0, out.length);
        expect(line).toBe(`${redactedLine({ seq: e.seq, chainVersion: e.chainVersion, contentHash: contentHash(e), prevHash: e.prevHash, hash: e.hash })}\n`);
        const parsed = parseExportLine(line.slice(0, -1));
        expect(parsed).toEqual({ kind: "redacted", event: { seq: e.seq, chainVersion: e.chainVersion, contentHash: contentHash(e), prevHash: e.prevHash, hash: e.hash } });
      }),
      { numRuns: 1000 },
    );
  }, 60_000);
});

describe("the verifier's fast path on export lines", () => {
  it("writes the writer's canonical form for lines of both exporters", () => {
    fc.assert(
      fc.property(storedEvent, (e) => {
        for (const line of [eventLine(e), exportedLines(e).ndjson.slice(0, -1)]) {
          const r = fast(line);
          expect(r).not.toBeNull();
          expect(r!.canonical).toBe(canonicalEvent(e));
          expect(r!.hashOk).toBe(true);
          expect([BigInt(r!.seq), r!.prevHash, r!.hash]).toEqual([e.seq, e.prevHash, e.hash]);
        }
      }),
      { numRuns: 1500 },
    );
  }, 60_000);

  it("reads whatever edited line it takes exactly as parseExportLine reads it", () => {
    const piece = fc.constantFrom("", " ", ",", ":", "}", "{", '"', "\\", "\\\\", "0", "1", "-", "e", "n", "null", "\u0001", "\\u0041", "\\/", '"x":1,', "\r", "é");
    const edit = fc.tuple(fc.nat(), piece, fc.nat(3));
    let taken = 0;
    fc.assert(
      fc.property(storedEvent, fc.array(edit, { minLength: 1, maxLength: 3 }), (e, edits) => {
        let line = eventLine(e);
        for (const [at, p, cut] of edits) {
          const i = at % (line.length + 1);
          line = line.slice(0, i) + p + line.slice(i + cut);
        }
        const r = fast(line);
        if (!r) return;
        taken += 1;
        const text = Buffer.from(line, "utf8").toString("utf8");
        const parsed = parseExportLine(text);
        if (parsed.kind !== "event") throw new Error("the fast path took a line that is not an event");
        expect(r.canonical).toBe(canonicalEvent(parsed.event));
        expect([BigInt(r.seq), r.prevHash, r.hash]).toEqual([parsed.event.seq, parsed.event.prevHash, parsed.event.hash]);
      }),
      { numRuns: 5000 },
    );
    // Many edits land inside values (the line stays valid and is read the same way): the property is not vacuous.
    expect(taken).toBeGreaterThan(100);
  }, 60_000);

  it("leaves other layouts and unexpected values to the reference reading", () => {
    // A prevHash with letters, so that its uppercase differs.
    const sample = fc.sample(storedEvent, { numRuns: 1, seed: 7 })[0]!;
    const e = { ...sample, prevHash: "ab".repeat(32), hash: hashEvent({ ...sample, prevHash: "ab".repeat(32) }) };
    const line = eventLine(e);
    expect(fast(line)).not.toBeNull();
    // A line of a version-1 export (no chainVersion) is a version-1 event, on the fast path too.
    const v1 = { ...e, chainVersion: 1, hash: hashEvent({ ...e, chainVersion: 1 }) };
    const old = eventLine(v1).replace(',"chainVersion":1}', "}");
    expect(fast(old)).toMatchObject({ hashOk: true, canonical: canonicalEvent(v1) });
    const o = JSON.parse(line) as Record<string, unknown>;
    const variants = [
      JSON.stringify(o, null, 1), // whitespace
      JSON.stringify({ ...o, extra: 1 }), // an unknown key, which the hash does not cover
      line.replace(`"seq":"${e.seq}"`, `"seq":"0${e.seq}"`), // BigInt would read it; it is not how seq is written
      line.replace(`"seq":"${e.seq}"`, `"seq":${e.seq}`),
      line.replace(/"summary":("(?:[^"\\]|\\.)*")/, '"summary":null'), // String(null) would hash "null"
      line.replace(/"occurredAt":"[^"]*"/, '"occurredAt":"2026-02-30T00:00:00.000Z"'), // Date rolls it over to March 2
      line.replace(/"occurredAt":"[^"]*"/, '"occurredAt":"2026-01-01T24:00:00.000Z"'),
      line.replace(/"prevHash":"[^"]*"/, `"prevHash":"${e.prevHash.toUpperCase()}"`),
      line.replace(/"chainVersion":\d+/, '"chainVersion":3'), // no hash rule
      line.replace(/"chainVersion":\d+/, '"chainVersion":"2"'),
      line.replace(/"chainVersion":\d+/, '"chainVersion":22'),
    ];
    for (const v of variants) expect(fast(v), v).toBeNull();
  });
});
