// HTTP byte ranges (RFC 9110 §14) for artifact downloads: an agent whose download broke off asks for the rest with
// `Range: bytes=N-` instead of starting over. Pure, so every case is unit-tested (http-range.test.ts).

export type RangeAnswer =
  /** Send everything with 200: no Range, one we ignore (another unit, several ranges, malformed), or a stale If-Range. */
  | { kind: "full" }
  /** Send bytes start..end (inclusive) with 206 and Content-Range. */
  | { kind: "partial"; start: number; end: number }
  /** Answer 416 with `Content-Range: bytes * /size`: the range starts beyond the end. */
  | { kind: "unsatisfiable" };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * What to send for a `Range` header over a representation of `size` bytes whose ETag is `etag`. Per the RFC a
 * server may ignore a Range it will not serve, so only one range is honoured; an `If-Range` that names another
 * version means "send it all".
 */
export function answerRange(range: string | null, size: number, options: { ifRange?: string | null; etag?: string } = {}): RangeAnswer {
  if (!range) return { kind: "full" };
  if (options.ifRange && options.ifRange.trim() !== options.etag) return { kind: "full" };
  const m = SINGLE_RANGE.exec(range.replace(/\s+/g, ""));
  if (!m) return { kind: "full" };
  const [, first = "", last = ""] = m;
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    // A suffix: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: "full" };
  if (last !== "" && Number(last) < start) return { kind: "full" }; // invalid: ignored, as the RFC allows
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "partial", start, end };
}
