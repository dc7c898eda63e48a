// Random audit events for the property tests of the fast canonical paths (lib/audit/*.test.ts), and the bytes they
// arrive in: a row of PostgreSQL's binary COPY (encoded as its send functions do: text as UTF-8, uuid as 16 bytes,
// timestamp as microseconds since 2000-01-01, int8 big-endian, jsonb as version 1 + text) and export lines.
// verify-database.int.test.ts checks the same paths against a real PostgreSQL.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { EVENT_COPY_FIELDS, F } from "../lib/audit/binary-event-row";
import { GENESIS_HASH, hashEvent } from "../lib/audit/chain";
import type { StoredEvent } from "../lib/audit/verify-chain";

/** What PostgreSQL stores for a JavaScript string: its UTF-8 (a lone surrogate becomes U+FFFD). */
export const stored = (s: string): string => Buffer.from(s, "utf8").toString("utf8");

/** The same for every string inside a JSON value (keys too). */
export const storedJson = (v: unknown): unknown =>
  typeof v === "string"
    ? stored(v)
    : Array.isArray(v)
      ? v.map(storedJson)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [stored(k), storedJson(x)]))
        : v;

/**
 * Text of every kind: escapes, controls, non-ASCII, astral characters, line separators, as the writer hands it to
 * PostgreSQL (record-audit-event.ts makes strings well-formed first, as their UTF-8 in the database will be).
 */
export const text = fc
  .oneof(
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom("", '"', "\\", "\n", "\u0000x", "\u001f", "\u007f", "\u2028", "é😀", "=1+2", "-a, \"b\"", "@x\r\n", "\ud800"),
  )
  .map(stored);
const optionalText = fc.option(text, { nil: null });
const uuid = fc.uuid();
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

/** JSON values as jsonb would give them back (a JSON round trip: no undefined, no -0 distinctions that survive). */
export const jsonValue = fc.oneof(
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), fc.double({ noNaN: true }), text, fc.boolean(), fc.constant(null)), { maxKeys: 6 }),
  fc.record({ ok: fc.boolean(), step: fc.integer({ min: 0, max: 9 }) }),
).map((v) => storedJson(JSON.parse(JSON.stringify(v))));

/** An event as the writer stores it: valid UUIDs where the columns are uuid, times in whole milliseconds. */
export const storedEvent = fc
  .record({
    seq: fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }),
    id: uuid,
    occurredAt: fc.date({ min: new Date("1990-01-01T00:00:00Z"), max: new Date("2200-01-01T00:00:00Z"), noInvalidDate: true }),
    type: text,
    actorType: fc.constantFrom("USER", "AGENT", "API_TOKEN", "SYSTEM"),
    actorId: optionalText,
    actorLabel: text,
    customerId: fc.option(uuid, { nil: null }),
    applicationId: fc.option(uuid, { nil: null }),
    environmentId: fc.option(uuid, { nil: null }),
    releaseId: fc.option(uuid, { nil: null }),
    objectType: text,
    objectId: optionalText,
    summary: text,
    before: jsonValue,
    after: jsonValue,
    data: jsonValue,
    ip: optionalText,
    userAgent: optionalText,
    requestId: optionalText,
    prevHash: fc.oneof(fc.constant(GENESIS_HASH), hex64),
    // Both hash rules: records begun before version 2 hold version-1 events.
    chainVersion: fc.constantFrom(1, 2),
  })
  .map((e) => ({ ...e, hash: hashEvent(e) }) satisfies StoredEvent);

/** JSON text in several layouts: compact, jsonb's (", " and ": "), or with random whitespace and key order. */
export function jsonText(v: unknown, layout: "compact" | "jsonb" | "loose", seed = 1): string {
  let r = seed;
  const rand = () => (r = (r * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const ws = () => (layout === "loose" ? [" ", "\n", "\t", "\r", "", ""][Math.floor(rand() * 6)]! : "");
  const out = (x: unknown): string => {
    if (x === null || typeof x !== "object") return `${ws()}${JSON.stringify(x)}${ws()}`;
    if (Array.isArray(x)) return `[${ws()}${x.map(out).join(layout === "jsonb" ? ", " : ",")}${ws()}]`;
    const entries = Object.entries(x as Record<string, unknown>);
    if (layout === "jsonb") entries.sort(([a], [b]) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
    else if (layout === "loose") entries.sort(() => rand() - 0.5);
    return `{${ws()}${entries.map(([k, val]) => `${JSON.stringify(k)}${ws()}:${layout === "jsonb" ? " " : ""}${out(val)}`).join(layout === "jsonb" ? ", " : ",")}${ws()}}`;
  };
  return out(v);
}

const PG_EPOCH_MS = 946684800000n;

/** The event as a tuple of PostgreSQL's binary COPY in EVENT_COPY_COLUMNS order (no header, no trailer). */
export function binaryRow(e: StoredEvent, jsonLayout: "compact" | "jsonb" | "loose" = "jsonb"): Buffer {
  const fields: (Buffer | null)[] = new Array(EVENT_COPY_FIELDS).fill(null);
  const text = (v: string | null) => (v === null ? null : Buffer.from(v, "utf8"));
  const uuidBytes = (v: string | null) => (v === null ? null : Buffer.from(v.replace(/-/g, ""), "hex"));
  const int8 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    return b;
  };
  const jsonb = (v: unknown) => (v === null ? null : Buffer.concat([Buffer.of(1), Buffer.from(jsonText(v, jsonLayout), "utf8")]));
  for (const k of ["actorId", "actorLabel", "actorType", "objectId", "objectType", "prevHash", "requestId", "summary", "type", "userAgent", "ip", "hash"] as const) {
    fields[F[k]] = text(e[k]);
  }
  for (const k of ["applicationId", "customerId", "environmentId", "releaseId", "id"] as const) fields[F[k]] = uuidBytes(e[k]);
  for (const k of ["after", "before", "data"] as const) fields[F[k]] = jsonb(e[k]);
  fields[F.seq] = int8(e.seq);
  const int2 = Buffer.alloc(2);
  int2.writeInt16BE(e.chainVersion);
  fields[F.chainVersion] = int2;
  fields[F.occurredAt] = int8((BigInt(e.occurredAt.getTime()) - PG_EPOCH_MS) * 1000n);
  const parts: Buffer[] = [Buffer.from([EVENT_COPY_FIELDS >> 8, EVENT_COPY_FIELDS & 255])];
  for (const f of fields) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(f === null ? -1 : f.length);
    parts.push(len);
    if (f) parts.push(f);
  }
  return Buffer.concat(parts);
}

/** A whole binary COPY stream of these rows: header, tuples, trailer. */
export function binaryCopy(rows: Buffer[]): Buffer {
  const header = Buffer.concat([Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"), Buffer.alloc(8)]);
  return Buffer.concat([header, ...rows, Buffer.from([0xff, 0xff])]);
}

/** The event's hash by its version's rule (chain.ts), computed the plain way. */
export function plainHash(prevHash: string, canonical: string, version: number): string {
  const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash("sha256")).digest();
  const prev = Buffer.from(prevHash, "hex");
  const bytes = Buffer.from(canonical, "utf8");
  return (version === 1 ? sha256(prev, bytes) : sha256(prev, sha256(bytes))).toString("hex");
}
