// The fast canonical form (canonical-writer.ts, driven by binary-event-row.ts and export-event-line.ts) must be byte
// for byte the writer's (chain.ts canonicalEvent, itself held to the independent `canonicalize` package in
// chain.test.ts): these properties run both on random events, from every form the bytes arrive in.
import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { binaryCopy, binaryRow, jsonText, plainHash, storedEvent } from "../../test/audit-events";
import { EVENT_COPY_FIELDS, F, storedEventFromBinaryRow, writeCanonicalBinaryRow } from "./binary-event-row";
import { canonicalEvent, hashEvent } from "./chain";
import { CanonicalWriter } from "./canonical-writer";
import { CopyBinaryReader } from "./copy-binary-reader";
import { JsonBytes } from "./json-bytes";
import type { StoredEvent } from "./verify-chain";

/** Runs the binary COPY reader over one row and hands back the spans. */
function readRow(row: Buffer, use: (buf: Buffer, start: Int32Array, end: Int32Array) => void): void {
  const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, use);
  reader.push(binaryCopy([row]));
  reader.finish();
  expect(reader.rows).toBe(1);
}

const reference = (e: StoredEvent) =>
  canonicalize({ v: e.chainVersion, ...e, hash: undefined, chainVersion: undefined, seq: e.seq.toString(), occurredAt: e.occurredAt.toISOString() });

describe("canonical form from binary COPY rows", () => {
  it("is canonicalEvent's bytes, and the digest is hashEvent's, for any event and any jsonb layout", () => {
    const writer = new CanonicalWriter();
    fc.assert(
      fc.property(storedEvent, fc.constantFrom("compact", "jsonb", "loose") as fc.Arbitrary<"compact" | "jsonb" | "loose">, (e, layout) => {
        readRow(binaryRow(e, layout), (buf, start, end) => {
          // The reference reading of the row is the event itself (nothing lost in the encoding)...
          expect(storedEventFromBinaryRow(buf, start, end)).toEqual(e);
          // ...and the fast path writes exactly its canonical form.
          expect(writeCanonicalBinaryRow(writer, buf, start, end)).toBe(true);
          expect(writer.canonical().toString("utf8")).toBe(canonicalEvent(e));
          expect(writer.canonical().toString("utf8")).toBe(reference(e));
          expect(writer.digestMatches(buf, start[F.hash]!, end[F.hash]!)).toBe(true);
          expect(plainHash(e.prevHash, canonicalEvent(e), e.chainVersion)).toBe(e.hash);
        });
      }),
      { numRuns: 1500 },
    );
  }, 60_000);

  it("does not match a hash that is not the event's", () => {
    const writer = new CanonicalWriter();
    fc.assert(
      fc.property(storedEvent, fc.nat(63), (e, at) => {
        const other = e.hash.slice(0, at) + (e.hash[at] === "0" ? "1" : "0") + e.hash.slice(at + 1);
        readRow(binaryRow({ ...e, hash: other }), (buf, start, end) => {
          expect(writeCanonicalBinaryRow(writer, buf, start, end)).toBe(true);
          expect(writer.digestMatches(buf, start[F.hash]!, end[F.hash]!)).toBe(false);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("leaves rows it does not recognise exactly to the reference code", () => {
    const writer = new CanonicalWriter();
    const e = fc.sample(storedEvent, 1)[0]!;
    const cases: StoredEvent[] = [
      { ...e, prevHash: e.prevHash.toUpperCase().replace(/^[0-9]/, "A") }, // uppercase hex: hashEvent would decode it, the string differs
      { ...e, prevHash: "abc" },
      { ...e, seq: 2n ** 53n }, // beyond a safe integer
      { ...e, occurredAt: new Date("+010000-01-01T00:00:00Z") }, // toISOString writes "+010000-..."
      { ...e, chainVersion: 3 }, // no hash rule
      { ...e, chainVersion: -1 },
    ];
    for (const c of cases) {
      readRow(binaryRow({ ...c, hash: hashEvent(c) }), (buf, start, end) => expect(writeCanonicalBinaryRow(writer, buf, start, end)).toBe(false));
    }
  });
});

describe("values written as bytes", () => {
  it("timestamps as Date.prototype.toISOString writes them", () => {
    const out = new JsonBytes();
    fc.assert(
      fc.property(fc.integer({ min: -62167219200000, max: 253402300799999 }), (ms) => {
        out.length = 0;
        expect(out.isoTime(ms)).toBe(true);
        expect(out.buf.toString("utf8", 0, out.length)).toBe(JSON.stringify(new Date(ms).toISOString()));
      }),
      { numRuns: 5000 },
    );
    out.length = 0;
    expect(out.isoTime(253402300800000)).toBe(false);
    expect(out.isoTime(-62167219200001)).toBe(false);
  });

  it("decimals as bigint.toString writes them", () => {
    const out = new JsonBytes();
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        out.length = 0;
        out.decimal(n);
        expect(out.buf.toString("utf8", 0, out.length)).toBe(`"${BigInt(n).toString()}"`);
      }),
    );
  });

  it("strings from their UTF-8 as JSON.stringify writes them", () => {
    const out = new JsonBytes();
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), (a, b) => {
        for (const s of [a, Buffer.from(b).toString()]) {
          const bytes = Buffer.from(s);
          out.length = 0;
          out.text(bytes, 0, bytes.length);
          expect(out.buf.toString("utf8", 0, out.length)).toBe(JSON.stringify(s));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("grows its buffer for large values", () => {
    const out = new JsonBytes();
    const big = Buffer.from("x".repeat(200_000));
    out.text(big, 0, big.length);
    out.text(Buffer.from('"'.repeat(50_000)), 0, 50_000);
    expect(out.buf.toString("utf8", 0, out.length)).toBe(JSON.stringify("x".repeat(200_000)) + JSON.stringify('"'.repeat(50_000)));
  });
});

describe("jsonText (the test's own layouts)", () => {
  it("parses back to the value in every layout", () => {
    fc.assert(fc.property(fc.jsonValue(), fc.integer(), (v, seed) => {
      const value = JSON.parse(JSON.stringify(v)) as unknown;
      for (const layout of ["compact", "jsonb", "loose"] as const) expect(JSON.parse(jsonText(value, layout, seed))).toEqual(value);
    }));
  });
});
