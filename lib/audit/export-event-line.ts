// The canonical form of the event on one line of an NDJSON export, written straight from the line's bytes
// (canonical-writer.ts), for `audit:verify --export`. Takes only lines laid out exactly as the exporter writes them
// (eventLine's keys in its order, no whitespace, nothing else); any other line, and any value it does not recognise
// exactly, is left to the reference reading (parseExportLine + chain.ts), which is also what explains a mismatch.
// Pure: no database, no server-only.
import { F, JSON_FIELDS } from "./binary-event-row";
import { scanString, stringEndOf, stringEscaped } from "./canonical-json-bytes";
import { CANONICAL_KEYS, type CanonicalWriter } from "./canonical-writer";
import { EVENT_LINE_KEYS, EVENT_LINE_PREFIXES as PREFIX } from "./export-format";
import { Q } from "./json-bytes";

const FIELD = EVENT_LINE_KEYS.map((k) => F[k]);
// Fields the reference reads with String(): a null there would become the text "null", so only strings are taken.
const REQUIRED = new Set<number>([F.id, F.type, F.actorType, F.actorLabel, F.objectType, F.summary, F.prevHash, F.hash, F.seq, F.occurredAt]);

// What a value span holds.
const NULL = 0;
const PLAIN = 1; // a JSON string without escapes: the bytes between the quotes are the value's UTF-8
const ESCAPED = 2; // a JSON string with escapes: the span includes its quotes
const JSON_TEXT = 3; // any other JSON value (objects, arrays, numbers, booleans)

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// "YYYY-MM-DDTHH:MM:SS.mmmZ": 0 for a digit, else the character that must stand there.
const ISO_SHAPE = Uint8Array.from("0000-00-00T00:00:00.000Z", (c) => (c === "0" ? 0 : c.charCodeAt(0)));

/** Value spans of one line, by field (F order), and its chain version. */
export class LineSpans {
  readonly start = new Int32Array(CANONICAL_KEYS.length + 2);
  readonly end = new Int32Array(CANONICAL_KEYS.length + 2);
  readonly kind = new Uint8Array(CANONICAL_KEYS.length + 2);
  version = 0;
}

// The last key, chainVersion, is absent from lines of version-1 exports (all their events are version 1).
const LAST = PREFIX.length - 1;

/**
 * Writes the canonical form (hash prefix included) of the event on line buf[s, e) through `w`, with the spans of
 * its fields in `spans`. Returns the event's seq, or -1 when the line is not exactly in the exporter's layout or a
 * value is not what the writer's events hold: the caller then reads the line with parseExportLine instead.
 */
export function writeCanonicalExportLine(w: CanonicalWriter, buf: Buffer, s: number, e: number, spans: LineSpans): number {
  const { start, end, kind } = spans;
  let p = s;
  spans.version = 1;
  for (let i = 0; i < PREFIX.length; i++) {
    if (i === LAST && buf[p] === 0x7d) break;
    const prefix = PREFIX[i]!;
    if (p + prefix.length > e) return -1;
    for (let j = 0; j < prefix.length; j++) if (buf[p + j] !== prefix[j]) return -1;
    p += prefix.length;
    const f = FIELD[i]!;
    const c = buf[p];
    if (f === F.chainVersion) {
      // One digit, as JSON.stringify writes the small integers the chain has versions for.
      if (c === undefined || c < 0x31 || c > 0x39) return -1;
      spans.version = c - 0x30;
      p += 1;
    } else if (c === Q) {
      // A string; raw control characters are not JSON (the reference would refuse the line).
      const scan = scanString(buf, p, e);
      if (scan < 0) return -1;
      const q = stringEndOf(scan);
      const escaped = stringEscaped(scan);
      if (escaped) {
        start[f] = p;
        end[f] = q + 1;
        kind[f] = ESCAPED;
      } else {
        start[f] = p + 1;
        end[f] = q;
        kind[f] = PLAIN;
      }
      p = q + 1;
    } else if (c === 0x6e && buf[p + 1] === 0x75 && buf[p + 2] === 0x6c && buf[p + 3] === 0x6c) {
      if (REQUIRED.has(f)) return -1;
      kind[f] = NULL;
      p += 4;
    } else if (JSON_FIELDS.has(f)) {
      const q = jsonEnd(buf, p, e);
      if (q < 0) return -1;
      start[f] = p;
      end[f] = q;
      kind[f] = JSON_TEXT;
      p = q;
    } else return -1;
  }
  if (p + 1 !== e || buf[p] !== 0x7d) return -1;

  // Fields with a fixed form: anything else goes to the reference reading.
  if (kind[F.seq] !== PLAIN || kind[F.occurredAt] !== PLAIN || kind[F.prevHash] !== PLAIN || kind[F.hash] !== PLAIN) return -1;
  const seq = decimal(buf, start[F.seq]!, end[F.seq]!);
  if (seq < 0 || !isoTimestamp(buf, start[F.occurredAt]!, end[F.occurredAt]!)) return -1;
  if (!w.prevHashBytes(buf, start[F.prevHash]!, end[F.prevHash]!)) return -1;

  w.begin();
  try {
    for (let f = 0; f < CANONICAL_KEYS.length; f++) {
      w.next();
      const k = kind[f];
      if (k === NULL) w.null();
      else if (f === F.seq) w.decimal(seq);
      else if (k === PLAIN) w.plain(buf, start[f]!, end[f]!);
      else if (k === ESCAPED) w.string(JSON.parse(buf.toString("utf8", start[f]!, end[f]!)) as string);
      else w.jsonBytes(buf, start[f]!, end[f]!);
    }
  } catch {
    // Not valid JSON after all (a bad escape, a malformed value): the reference reading says so.
    return -1;
  }
  if (!w.end(spans.version)) return -1;
  return seq;
}

/**
 * The end of the JSON value (object, array, number, true/false) starting at p, found by its brackets and strings;
 * -1 if the line ends first. Whether it is valid JSON is for JSON.parse to say, on exactly that span.
 */
function jsonEnd(buf: Buffer, p: number, e: number): number {
  let depth = 0;
  for (let q = p; q < e; q++) {
    const b = buf[q]!;
    if (b === Q) {
      for (q++; q < e && buf[q] !== Q; q++) if (buf[q] === 0x5c) q++;
      if (q >= e) return -1;
    } else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) {
      if (depth === 0) return q;
      depth--;
      if (depth === 0) return q + 1;
    } else if (b === 0x2c && depth === 0) return q;
  }
  return -1;
}

/** A seq written the way bigint.toString() writes it (no sign, no leading zero), as a safe integer; else -1. */
function decimal(buf: Buffer, s: number, e: number): number {
  if (e - s < 1 || e - s > 16 || (buf[s] === 0x30 && e - s > 1)) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n > 0 && Number.isSafeInteger(n) ? n : -1;
}

/**
 * Whether buf[s, e) is a timestamp exactly as Date.prototype.toISOString writes it ("2026-03-01T10:11:12.345Z"),
 * a real calendar time: then new Date(text).toISOString() gives the text back, as the reference computes it. A day
 * past the month's end or 24:00 would be rolled over by Date, so those go to the reference.
 */
function isoTimestamp(buf: Buffer, s: number, e: number): boolean {
  if (e - s !== 24) return false;
  // No closures here: this runs for every line, and a helper function per call costs more than the checks.
  for (let i = 0; i < 24; i++) {
    const c = buf[s + i]!;
    const want = ISO_SHAPE[i]!;
    if (want === 0 ? c < 0x30 || c > 0x39 : c !== want) return false;
  }
  const year = (buf[s]! - 0x30) * 1000 + (buf[s + 1]! - 0x30) * 100 + (buf[s + 2]! - 0x30) * 10 + (buf[s + 3]! - 0x30);
  const month = (buf[s + 5]! - 0x30) * 10 + (buf[s + 6]! - 0x30);
  const day = (buf[s + 8]! - 0x30) * 10 + (buf[s + 9]! - 0x30);
  const hour = (buf[s + 11]! - 0x30) * 10 + (buf[s + 12]! - 0x30);
  const minute = (buf[s + 14]! - 0x30) * 10 + (buf[s + 15]! - 0x30);
  const second = (buf[s + 17]! - 0x30) * 10 + (buf[s + 18]! - 0x30);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS[month - 1];
  return days !== undefined && day >= 1 && day <= days && hour < 24 && minute < 60 && second < 60;
}
