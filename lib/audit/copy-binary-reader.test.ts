import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { binaryCopy, binaryRow, storedEvent } from "../../test/audit-events";
import { EVENT_COPY_FIELDS, storedEventFromBinaryRow } from "./binary-event-row";
import { CopyBinaryReader } from "./copy-binary-reader";

describe("binary COPY reader", () => {
  it("gives every row once, in order, however the stream is cut into chunks", () => {
    fc.assert(
      fc.property(fc.array(storedEvent, { maxLength: 8 }), fc.array(fc.nat(3000), { maxLength: 12 }), (events, cuts) => {
        const stream = binaryCopy(events.map((e) => binaryRow(e)));
        const seen: unknown[] = [];
        const reader = new CopyBinaryReader(EVENT_COPY_FIELDS, (buf, start, end) => seen.push(storedEventFromBinaryRow(buf, start, end)));
        let at = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          const to = Math.min(cut, stream.length);
          if (to < at) continue;
          reader.push(stream.subarray(at, to));
          at = to;
        }
        reader.push(stream.subarray(at));
        reader.finish();
        expect(seen).toEqual(events);
        expect(reader.rows).toBe(events.length);
      }),
      { numRuns: 500 },
    );
  }, 60_000);

  it("refuses a stream cut short, data after the end, and rows of another shape", () => {
    const stream = binaryCopy([binaryRow(fc.sample(storedEvent, 1)[0]!)]);
    const short = new CopyBinaryReader(EVENT_COPY_FIELDS, () => undefined);
    short.push(stream.subarray(0, stream.length - 5));
    expect(() => short.finish()).toThrow(/ended before/);
    expect(() => new CopyBinaryReader(EVENT_COPY_FIELDS, () => undefined).push(Buffer.concat([stream, Buffer.of(0)]))).toThrow(/after the end/);
    expect(() => new CopyBinaryReader(3, () => undefined).push(stream)).toThrow(/fields, expected 3/);
    expect(() => new CopyBinaryReader(3, () => undefined).push(Buffer.alloc(40))).toThrow(/not a binary COPY/);
  });
});
