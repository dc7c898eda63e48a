// The canonical form of an audit event (chain.ts canonicalEvent), written as bytes straight from the bytes the event
// arrives in: a binary COPY row from PostgreSQL (binary-event-row.ts) or a line of an NDJSON export
// (export-event-line.ts). Building JavaScript strings and objects for a million events first, then encoding them to
// UTF-8 again for the hash, is where most of verification's time went. Pure: no database, no server-only.
//
// INVARIANT: what a driver writes through this class is byte for byte Buffer.from(canonicalEvent(e), "utf8") for the
// event it read, and the digest is hashEvent(e). canonical-writer.test.ts proves it against canonicalEvent and the
// independent `canonicalize` package on random events. Only the three free-form JSON columns go through the generic
// RFC 8785 routine (canonicalJson); every other field has a fixed type and is copied or formatted here. Anything a
// driver does not recognise exactly is left to the reference code (chain.ts), never guessed.
import { hash } from "node:crypto";
import { canonicalJson } from "./chain";
import { writeCanonicalJsonText } from "./canonical-json-bytes";
import { ascii, HEX, JsonBytes } from "./json-bytes";

/** The keys canonicalEvent writes, in RFC 8785 order (sorted by UTF-16 code units); `v` follows them. */
export const CANONICAL_KEYS = [
  "actorId", "actorLabel", "actorType", "after", "applicationId", "before", "customerId", "data", "environmentId", "id", "ip",
  "objectId", "objectType", "occurredAt", "prevHash", "releaseId", "requestId", "seq", "summary", "type", "userAgent",
] as const;

const KEY_PREFIX = CANONICAL_KEYS.map((k, i) => ascii(`${i === 0 ? "{" : ","}"${k}":`));
/** The closing `,"v":N}` of each chain version hashEvent knows (chain.ts). */
const END = new Map([1, 2].map((v) => [v, ascii(`,"v":${v}}`)]));
// Value of an ASCII lowercase hex digit, -1 for anything else (uppercase too: the chain writes lowercase only, and
// hashEvent's Buffer.write(hex) would accept uppercase but the canonical string would then differ).
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX[i]!] = i;

/** Where the prevHash bytes go: version 1 hashes sha256(prevHash bytes || canonical UTF-8). */
const PREFIX = 32;

export class CanonicalWriter extends JsonBytes {
  // bytes [0, 32): prevHash decoded; [32, length): the canonical JSON.
  override length = PREFIX;
  private key = 0;
  /** The chain version end() closed the event with: which rule digestMatches applies. */
  private version = 0;
  // Version 2's second hash: prevHash bytes, then the content hash bytes.
  private readonly link = Buffer.allocUnsafe(64);

  /** Starts a new event. */
  begin(): void {
    this.length = PREFIX;
    this.key = 0;
    this.version = 0;
  }

  /** Writes the next key's `{"name":` or `,"name":`. Keys come strictly in CANONICAL_KEYS order. */
  next(): void {
    this.put(KEY_PREFIX[this.key++]!);
  }

  /** Decodes 64 lowercase hex digits at src[s, s + 64) into the hash prefix; false (nothing usable) otherwise. */
  prevHashBytes(src: Buffer, s: number, e: number): boolean {
    if (e - s !== 64) return false;
    const b = this.buf;
    for (let i = 0; i < 32; i++) {
      const hi = HEX_VALUE[src[s + 2 * i]!]!;
      const lo = HEX_VALUE[src[s + 2 * i + 1]!]!;
      if ((hi | lo) < 0) return false;
      b[i] = (hi << 4) | lo;
    }
    return true;
  }

  /** A free-form JSON value given as JSON text: its RFC 8785 form, by the same routine the writer uses. */
  json(text: string): void {
    this.raw(canonicalJson(JSON.parse(text) as unknown));
  }

  /**
   * The same for JSON text given as bytes: written from the bytes when writeCanonicalJsonText takes them (the
   * common case), else through json(). Throws, as JSON.parse does, on text that is not JSON.
   */
  jsonBytes(src: Buffer, s: number, e: number): void {
    if (!writeCanonicalJsonText(this, src, s, e)) this.json(src.toString("utf8", s, e));
  }

  /** Closes the canonical form (`,"v":N}`); false, writing nothing, for a version without a rule. */
  end(version: number): boolean {
    const bytes = END.get(version);
    if (!bytes) return false;
    this.put(bytes);
    this.version = version;
    return true;
  }

  /** The canonical JSON written since begin(), without the hash prefix (for tests and diagnostics). */
  canonical(): Buffer {
    return this.buf.subarray(PREFIX, this.length);
  }

  /** sha256 of the canonical JSON written since begin(), hex: a version-2 event's content hash. */
  contentHashHex(): string {
    return hash("sha256", this.buf.subarray(PREFIX, this.length), "hex");
  }

  /**
   * Whether the event's hash by its version's rule (chain.ts hashEvent) is the 64 lowercase hex digits at src[s, e):
   * its stored hash.
   */
  digestMatches(src: Buffer, s: number, e: number): boolean {
    if (e - s !== 64) return false;
    // "binary" (latin1) strings of the 32 digest bytes: several times cheaper than asking crypto.hash for a Buffer.
    let d: string;
    if (this.version === 2) {
      this.buf.copy(this.link, 0, 0, PREFIX);
      this.link.write(hash("sha256", this.buf.subarray(PREFIX, this.length), "binary"), PREFIX, "latin1");
      d = hash("sha256", this.link, "binary");
    } else if (this.version === 1) d = hash("sha256", this.buf.subarray(0, this.length), "binary");
    else return false;
    for (let i = 0; i < 32; i++) {
      const v = d.charCodeAt(i);
      if (src[s + 2 * i] !== HEX[v >> 4] || src[s + 2 * i + 1] !== HEX[v & 15]) return false;
    }
    return true;
  }
}
