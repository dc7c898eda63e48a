// The export's lines written as bytes straight from binary COPY rows (binary-event-row.ts): an NDJSON event line as
// eventLine (export-format.ts) writes it, or a CSV line as csvLine does, without building an event object and a
// string per line first. A million-event export spent most of its time doing that. Pure: no database, no server-only.
// INVARIANT: the bytes parse to exactly what eventLine / csvLine give for the same stored event
// (export-event-line.test.ts, export-verify.int.test.ts).
import { binaryTimestampMs, F, JSON_FIELDS, rowSeq, rowVersion, storedEventFromBinaryRow, writeCanonicalBinaryRow } from "./binary-event-row";
import { contentHash } from "./chain";
import type { CanonicalWriter } from "./canonical-writer";
import { CSV_COLUMNS, csvField, EVENT_LINE_KEYS, EVENT_LINE_PREFIXES, REDACTED_LINE_KEYS } from "./export-format";
import { ascii, JsonBytes } from "./json-bytes";

// NDJSON keys in eventLine's order. JSON columns are copied as PostgreSQL prints them (its spacing), which parses
// to the same values.
const LINE_END = ascii("}\n");
const UUIDS = new Set<number>([F.id, F.customerId, F.applicationId, F.environmentId, F.releaseId]);
const LINE_FIELDS = EVENT_LINE_KEYS.map((k) => ({ f: F[k], uuid: UUIDS.has(F[k]), json: JSON_FIELDS.has(F[k]) }));

/** Appends the row's NDJSON event line (with its newline) to `out`. */
export function writeEventLine(out: JsonBytes, buf: Buffer, start: Int32Array, end: Int32Array): void {
  const seq = rowSeq(buf, start, end);
  for (let i = 0; i < LINE_FIELDS.length; i++) {
    out.put(EVENT_LINE_PREFIXES[i]!);
    const { f, uuid, json } = LINE_FIELDS[i]!;
    const s = start[f]!;
    const e = end[f]!;
    if (s < 0) out.null();
    else if (f === F.chainVersion) version(out, buf, start, end);
    else if (uuid) out.uuid(buf, s);
    else if (json) out.verbatim(buf, s + 1, e); // jsonb: a version byte, then the text
    else if (f === F.seq) {
      if (seq > 0) out.decimal(seq);
      else out.string(buf.readBigInt64BE(s).toString());
    } else if (f === F.occurredAt) {
      const ms = binaryTimestampMs(buf, s);
      if (!out.isoTime(ms)) out.string(new Date(ms).toISOString());
    } else out.text(buf, s, e);
  }
  out.put(LINE_END);
}

/** The chain version as a JSON number (an int2: a negative one only if someone wrote it). */
function version(out: JsonBytes, buf: Buffer, start: Int32Array, end: Int32Array): void {
  const v = rowVersion(buf, start, end);
  if (v >= 0) out.decimal(v, false);
  else out.raw(String(v));
}

const REDACTED_PREFIXES = REDACTED_LINE_KEYS.map((k, i) => ascii(`${i === 0 ? '{"kind":"redacted",' : ","}"${k}":`));

/**
 * Appends the row's redacted line (redactedLine in export-format.ts, with its newline): seq, chain version, content
 * hash, prevHash, hash. The content hash is computed here from the row as stored, never taken on trust, so an event
 * whose content was changed in the database (its application, to hide it from that application's auditor) does not
 * verify. `w` is scratch space for the canonical form.
 */
export function writeRedactedLine(out: JsonBytes, w: CanonicalWriter, buf: Buffer, start: Int32Array, end: Int32Array): void {
  const content = writeCanonicalBinaryRow(w, buf, start, end) ? w.contentHashHex() : contentHash(storedEventFromBinaryRow(buf, start, end));
  const seq = rowSeq(buf, start, end);
  out.put(REDACTED_PREFIXES[0]!);
  if (seq > 0) out.decimal(seq);
  else out.string(start[F.seq]! < 0 ? "0" : buf.readBigInt64BE(start[F.seq]!).toString());
  out.put(REDACTED_PREFIXES[1]!);
  version(out, buf, start, end);
  out.put(REDACTED_PREFIXES[2]!);
  out.string(content);
  out.put(REDACTED_PREFIXES[3]!);
  textOrNull(out, buf, start[F.prevHash]!, end[F.prevHash]!);
  out.put(REDACTED_PREFIXES[4]!);
  textOrNull(out, buf, start[F.hash]!, end[F.hash]!);
  out.put(LINE_END);
}

const textOrNull = (out: JsonBytes, buf: Buffer, s: number, e: number): void => (s < 0 ? out.null() : out.text(buf, s, e));

const CSV_FIELDS = CSV_COLUMNS.map((k) => F[k]);
const COMMA = 0x2c;
const QUOTE = 0x22;

/** Appends the row's CSV line (with its newline) to `out`. */
export function writeCsvLine(out: JsonBytes, buf: Buffer, start: Int32Array, end: Int32Array): void {
  for (let i = 0; i < CSV_FIELDS.length; i++) {
    if (i > 0) out.buf[out.length++] = COMMA;
    const f = CSV_FIELDS[i]!;
    const s = start[f]!;
    const e = end[f]!;
    out.ensure(2 * (e - s) + 64);
    if (s < 0) continue;
    if (f === F.seq) {
      const seq = rowSeq(buf, start, end);
      if (seq > 0) out.decimal(seq, false);
      else out.raw(csvField(buf.readBigInt64BE(s).toString()));
    } else if (f === F.occurredAt) {
      const ms = binaryTimestampMs(buf, s);
      if (!out.isoTime(ms, false)) out.raw(csvField(new Date(ms)));
    } else if (JSON_FIELDS.has(f)) {
      // csvLine's conversion of a JSON column: the parsed value, objects re-serialised compactly.
      out.raw(csvField(JSON.parse(buf.toString("utf8", s + 1, e)) as unknown));
    } else if (UUIDS.has(f)) {
      out.uuid(buf, s, false);
    } else csvText(out, buf, s, e);
  }
  out.buf[out.length++] = 0x0a;
}

/** csvField of a text value, from its UTF-8 bytes: the same neutralising of formulas and the same quoting. */
function csvText(out: JsonBytes, buf: Buffer, s: number, e: number): void {
  let quote = false;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === QUOTE || c === COMMA || c === 0x0a || c === 0x0d) {
      quote = true;
      break;
    }
  }
  const first = e > s ? buf[s]! : -1;
  // = + - @ tab CR: a spreadsheet would run the cell as a formula.
  const formula = first === 0x3d || first === 0x2b || first === 0x2d || first === 0x40 || first === 0x09 || first === 0x0d;
  const b = out.buf;
  let o = out.length;
  if (quote) b[o++] = QUOTE;
  if (formula) b[o++] = 0x27;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    b[o++] = c;
    if (c === QUOTE) b[o++] = QUOTE;
  }
  if (quote) b[o++] = QUOTE;
  out.length = o;
}
