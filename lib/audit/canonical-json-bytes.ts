// RFC 8785 canonical JSON of a JSON text, written as bytes without building JavaScript values: the free-form JSON
// columns of every event verified (before, after, data) arrive as JSON text, and parsing them into objects only to
// serialise them again was the largest single cost left in the fast verifier. Pure: no database, no server-only.
//
// INVARIANT: when it returns true, what it wrote is exactly Buffer.from(canonicalJson(JSON.parse(text))) for the
// text's (valid UTF-8) bytes; canonical-json-bytes.test.ts proves it on random JSON in many layouts. It takes only
// the common shapes (ASCII keys without escapes, no duplicate keys, modest depth) and returns false, having written
// nothing, for anything else, including invalid JSON: the caller then uses the generic routine, which decides.
import { ascii, BACKSLASH, type JsonBytes, NULL, Q } from "./json-bytes";

const MAX_DEPTH = 32;

/** Writes the canonical form of the JSON text src[s, e) to `out`; false (nothing written) if it does not take it. */
export function writeCanonicalJsonText(out: JsonBytes, src: Buffer, s: number, e: number): boolean {
  const mark = out.length;
  const p = value(out, src, ws(src, s, e), e, 0);
  if (p >= 0 && ws(src, p, e) === e) return true;
  out.length = mark;
  return false;
}

/** Skips JSON whitespace. */
function ws(src: Buffer, p: number, e: number): number {
  while (p < e) {
    const c = src[p]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    p++;
  }
  return p;
}

/** Parses the value at p; writes its canonical form when `out` is given. Returns the end, or -1. */
function value(out: JsonBytes | null, src: Buffer, p: number, e: number, depth: number): number {
  if (p >= e) return -1;
  const c = src[p]!;
  if (c === Q) return string(out, src, p, e);
  if (c === 0x7b) return object(out, src, p, e, depth);
  if (c === 0x5b) return array(out, src, p, e, depth);
  if (c === 0x74) return literal(out, src, p, e, TRUE);
  if (c === 0x66) return literal(out, src, p, e, FALSE);
  if (c === 0x6e) return literal(out, src, p, e, NULL);
  return number(out, src, p, e);
}

const TRUE = ascii("true");
const FALSE = ascii("false");

function literal(out: JsonBytes | null, src: Buffer, p: number, e: number, word: Uint8Array): number {
  if (p + word.length > e) return -1;
  for (let i = 0; i < word.length; i++) if (src[p + i] !== word[i]) return -1;
  out?.put(word);
  return p + word.length;
}

/**
 * A string. Without escapes its bytes are the value's UTF-8, which JSON.stringify writes back unchanged (it escapes
 * only quotes, backslashes, controls and lone surrogates, and valid UTF-8 holds none of those unescaped); with
 * escapes, JSON.parse and JSON.stringify of that one literal give the canonical form.
 */
function string(out: JsonBytes | null, src: Buffer, p: number, e: number): number {
  const scan = scanString(src, p, e);
  if (scan < 0) return -1;
  const q = stringEndOf(scan);
  if (out) {
    if (!stringEscaped(scan)) out.plain(src, p + 1, q);
    else {
      let v: unknown;
      try {
        v = JSON.parse(src.toString("utf8", p, q + 1));
      } catch {
        return -1;
      }
      out.raw(JSON.stringify(v));
    }
  }
  return q + 1;
}

/**
 * Scans the JSON string literal whose opening quote is at p. Returns -1 if the text ends first or holds a raw
 * control character (not JSON), else its closing quote's index and whether it holds an escape, packed into one
 * number (no object per string: this runs for every string of every event): read them with stringEndOf and
 * stringEscaped.
 */
export function scanString(src: Buffer, p: number, e: number): number {
  let escaped = 0;
  for (let q = p + 1; q < e; q++) {
    const c = src[q]!;
    if (c === Q) return q * 2 + escaped;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      escaped = 1;
      q++;
    }
  }
  return -1;
}
export const stringEndOf = (scan: number): number => Math.floor(scan / 2);
export const stringEscaped = (scan: number): boolean => scan % 2 === 1;

/**
 * A number, checked against JSON's grammar. An integer of up to 15 digits is written as it stands (ECMAScript writes
 * it the same way, and "-0" as "0", which is not taken here); any other number goes through Number and JSON.stringify,
 * which is what canonicalJson does with the value JSON.parse gives (the same conversion from decimal).
 */
function number(out: JsonBytes | null, src: Buffer, p: number, e: number): number {
  let q = p;
  if (src[q] === 0x2d) q++;
  const intStart = q;
  if (q >= e) return -1;
  if (src[q] === 0x30) q++;
  else if (src[q]! >= 0x31 && src[q]! <= 0x39) while (q < e && src[q]! >= 0x30 && src[q]! <= 0x39) q++;
  else return -1;
  const intEnd = q;
  let simple = true;
  if (q < e && src[q] === 0x2e) {
    simple = false;
    q++;
    const d = q;
    while (q < e && src[q]! >= 0x30 && src[q]! <= 0x39) q++;
    if (q === d) return -1;
  }
  if (q < e && (src[q] === 0x65 || src[q] === 0x45)) {
    simple = false;
    q++;
    if (q < e && (src[q] === 0x2b || src[q] === 0x2d)) q++;
    const d = q;
    while (q < e && src[q]! >= 0x30 && src[q]! <= 0x39) q++;
    if (q === d) return -1;
  }
  if (out) {
    const negativeZero = src[p] === 0x2d && intEnd - intStart === 1 && src[intStart] === 0x30;
    if (simple && intEnd - intStart <= 15 && !negativeZero) out.verbatim(src, p, q);
    else out.raw(JSON.stringify(Number(src.toString("latin1", p, q))));
  }
  return q;
}

function array(out: JsonBytes | null, src: Buffer, p: number, e: number, depth: number): number {
  if (depth >= MAX_DEPTH) return -1;
  out?.put(OPEN_ARRAY);
  let q = ws(src, p + 1, e);
  if (q < e && src[q] === 0x5d) {
    out?.put(CLOSE_ARRAY);
    return q + 1;
  }
  for (;;) {
    q = value(out, src, q, e, depth + 1);
    if (q < 0) return -1;
    q = ws(src, q, e);
    if (q >= e) return -1;
    if (src[q] === 0x5d) {
      out?.put(CLOSE_ARRAY);
      return q + 1;
    }
    if (src[q] !== 0x2c) return -1;
    out?.put(COMMA);
    q = ws(src, q + 1, e);
  }
}

const OPEN_ARRAY = Uint8Array.of(0x5b);
const CLOSE_ARRAY = Uint8Array.of(0x5d);
const OPEN_OBJECT = Uint8Array.of(0x7b);
const CLOSE_OBJECT = Uint8Array.of(0x7d);
const COMMA = Uint8Array.of(0x2c);
const COLON = Uint8Array.of(0x3a);

/**
 * An object: its members are found first (key and value spans), then written in RFC 8785 order. Keys are taken only
 * as printable ASCII without escapes, where UTF-16 order (what RFC 8785 sorts by) is byte order; a repeated key
 * (JSON.parse keeps the last) is left to the generic routine.
 */
function object(out: JsonBytes | null, src: Buffer, p: number, e: number, depth: number): number {
  if (depth >= MAX_DEPTH) return -1;
  const keys: number[] = []; // key start, key end (inside the quotes), value start, value end
  let q = ws(src, p + 1, e);
  if (q < e && src[q] === 0x7d) {
    out?.put(OPEN_OBJECT);
    out?.put(CLOSE_OBJECT);
    return q + 1;
  }
  for (;;) {
    if (q >= e || src[q] !== Q) return -1;
    const ks = q + 1;
    let k = ks;
    for (; k < e; k++) {
      const c = src[k]!;
      if (c === Q) break;
      if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
    }
    if (k >= e) return -1;
    q = ws(src, k + 1, e);
    if (q >= e || src[q] !== 0x3a) return -1;
    const vs = ws(src, q + 1, e);
    const ve = value(null, src, vs, e, depth + 1);
    if (ve < 0) return -1;
    keys.push(ks, k, vs, ve);
    q = ws(src, ve, e);
    if (q >= e) return -1;
    if (src[q] === 0x7d) break;
    if (src[q] !== 0x2c) return -1;
    q = ws(src, q + 1, e);
  }
  const end = q + 1;
  if (!out) return end;
  // Insertion sort by key bytes: objects in audit events have a handful of members.
  const n = keys.length / 4;
  const order: number[] = [];
  for (let i = 0; i < n; i++) order.push(i);
  for (let i = 1; i < n; i++) {
    const x = order[i]!;
    let j = i - 1;
    for (; j >= 0; j--) {
      const c = compareKeys(src, keys, order[j]!, x);
      if (c === 0) return -1;
      if (c < 0) break;
      order[j + 1] = order[j]!;
    }
    order[j + 1] = x;
  }
  out.put(OPEN_OBJECT);
  for (let i = 0; i < n; i++) {
    const m = order[i]! * 4;
    if (i > 0) out.put(COMMA);
    out.plain(src, keys[m]!, keys[m + 1]!);
    out.put(COLON);
    if (value(out, src, keys[m + 2]!, keys[m + 3]!, depth + 1) !== keys[m + 3]) return -1;
  }
  out.put(CLOSE_OBJECT);
  return end;
}

/** Byte order of the keys of members a and b (ASCII: the same as UTF-16 order). */
function compareKeys(src: Buffer, keys: number[], a: number, b: number): number {
  let i = keys[a * 4]!;
  const ie = keys[a * 4 + 1]!;
  let j = keys[b * 4]!;
  const je = keys[b * 4 + 1]!;
  for (; i < ie && j < je; i++, j++) {
    const d = src[i]! - src[j]!;
    if (d !== 0) return d;
  }
  return ie - i - (je - j);
}
