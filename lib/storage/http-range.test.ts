import { describe, expect, it } from "vitest";
import { answerRange } from "./http-range";
import { formatBytes } from "./format-bytes";

const etag = `"${"a".repeat(64)}"`;

describe("answerRange", () => {
  it("sends everything without a Range header", () => {
    expect(answerRange(null, 100)).toEqual({ kind: "full" });
    expect(answerRange("", 100)).toEqual({ kind: "full" });
  });

  it("resumes from an offset (bytes=N-)", () => {
    expect(answerRange("bytes=40-", 100)).toEqual({ kind: "partial", start: 40, end: 99 });
    expect(answerRange("bytes=99-", 100)).toEqual({ kind: "partial", start: 99, end: 99 });
    expect(answerRange("bytes=0-", 100)).toEqual({ kind: "partial", start: 0, end: 99 });
  });

  it("serves a closed range, clamped to the last byte", () => {
    expect(answerRange("bytes=10-19", 100)).toEqual({ kind: "partial", start: 10, end: 19 });
    expect(answerRange("bytes=90-500", 100)).toEqual({ kind: "partial", start: 90, end: 99 });
    expect(answerRange("bytes=5-5", 100)).toEqual({ kind: "partial", start: 5, end: 5 });
  });

  it("serves a suffix (the last N bytes)", () => {
    expect(answerRange("bytes=-10", 100)).toEqual({ kind: "partial", start: 90, end: 99 });
    expect(answerRange("bytes=-500", 100)).toEqual({ kind: "partial", start: 0, end: 99 });
  });

  it("is unsatisfiable when the range starts at or beyond the end", () => {
    expect(answerRange("bytes=100-", 100)).toEqual({ kind: "unsatisfiable" });
    expect(answerRange("bytes=150-200", 100)).toEqual({ kind: "unsatisfiable" });
    expect(answerRange("bytes=-0", 100)).toEqual({ kind: "unsatisfiable" });
    expect(answerRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
  });

  it("ignores what it does not serve: other units, several ranges, malformed or inverted ranges", () => {
    for (const header of ["items=0-5", "bytes=0-5,10-15", "bytes=abc", "bytes=-", "bytes=20-10", "bytes 0-5"]) {
      expect(answerRange(header, 100), header).toEqual({ kind: "full" });
    }
  });

  it("honours If-Range only for the same ETag", () => {
    expect(answerRange("bytes=10-", 100, { ifRange: etag, etag })).toEqual({ kind: "partial", start: 10, end: 99 });
    expect(answerRange("bytes=10-", 100, { ifRange: `"${"b".repeat(64)}"`, etag })).toEqual({ kind: "full" });
    expect(answerRange("bytes=10-", 100, { ifRange: "Wed, 21 Oct 2015 07:28:00 GMT", etag })).toEqual({ kind: "full" });
  });
});

describe("formatBytes", () => {
  it("says sizes the way people read them", () => {
    expect(formatBytes(1)).toBe("1 byte");
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(4 * 1024 ** 3)).toBe("4 GiB");
    expect(formatBytes(200 * 1024 ** 2)).toBe("200 MiB");
  });
});
