import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stored as viaUtf8, storedJson } from "../../test/audit-events";
import {
  CHAIN_VERSION,
  type ChainedEvent,
  canonicalCheckpoint,
  canonicalEvent,
  canonicalJson,
  contentHash,
  GENESIS_HASH,
  hashEvent,
  linkHash,
  normalizeJson,
  wellFormed,
} from "./chain";

const event = (over: Partial<ChainedEvent> = {}): ChainedEvent => ({
  seq: 42n,
  id: "8f1c6f1e-1111-4222-8333-944455556666",
  occurredAt: new Date("2026-11-22T10:11:12.345Z"),
  type: "ROLE_GRANTED",
  actorType: "USER",
  actorId: "u1",
  actorLabel: "ana@example.com",
  customerId: null,
  applicationId: "a1",
  environmentId: null,
  releaseId: null,
  objectType: "Membership",
  objectId: "m1",
  summary: "granted OPS on shop to ana@example.com",
  before: null,
  after: { role: "OPS", nested: { z: 1, a: [3, 1.5, "é", null, true] }, "": "empty key" },
  data: { "\u00e9": 1, e: 2, E: 3, "10": "ten", "9": "nine" },
  ip: "127.0.0.1",
  userAgent: "Mozilla/5.0 \"quoted\" \\ back\nslash",
  requestId: "r1",
  prevHash: GENESIS_HASH,
  chainVersion: CHAIN_VERSION,
  ...over,
});

// The reference: the same fields through the `canonicalize` package (an RFC 8785 implementation), the version as "v".
const reference = ({ chainVersion, ...e }: ChainedEvent) =>
  canonicalize({
    v: chainVersion,
    ...e,
    seq: e.seq.toString(),
    occurredAt: e.occurredAt.toISOString(),
    before: e.before ?? null,
    after: e.after ?? null,
    data: e.data ?? null,
  });

describe("canonical form (RFC 8785)", () => {
  it("matches an independent JCS implementation for the event's fields", () => {
    expect(canonicalEvent(event())).toBe(reference(event()));
    expect(canonicalEvent(event({ after: null, data: [1, { b: 2, a: 1 }], actorId: null }))).toBe(reference(event({ after: null, data: [1, { b: 2, a: 1 }], actorId: null })));
  });

  it("sorts keys by UTF-16 code units and writes numbers as ECMAScript does", () => {
    expect(canonicalJson({ b: 1, a: 2, B: 3, "€": 4, "😀": 5 })).toBe(canonicalize({ b: 1, a: 2, B: 3, "€": 4, "😀": 5 }));
    expect(canonicalJson([1e21, 0.1, -0, 1e-7, 100])).toBe(canonicalize([1e21, 0.1, -0, 1e-7, 100]));
  });

  it("drops undefined object members like JSON does", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it("signs checkpoints over canonical JSON", () => {
    const c = { number: 3n, createdAt: new Date("2026-01-01T00:00:00Z"), lastSeq: 99n, lastHash: "ab", prevCheckpointHash: "cd", keyId: "k" };
    expect(canonicalCheckpoint(c)).toBe('{"createdAt":"2026-01-01T00:00:00.000Z","keyId":"k","lastHash":"ab","lastSeq":"99","number":"3","prevCheckpointHash":"cd","v":1}');
  });
});

describe("event hash", () => {
  it("changes when any field changes", () => {
    const base = hashEvent(event());
    expect(hashEvent(event({ summary: "granted DEVELOPER" }))).not.toBe(base);
    expect(hashEvent(event({ seq: 43n }))).not.toBe(base);
    expect(hashEvent(event({ after: { role: "OPS", nested: { z: 2, a: [] } } }))).not.toBe(base);
    expect(hashEvent(event({ prevHash: "1".repeat(64) }))).not.toBe(base);
  });

  it("is the same for JSON that reads back from jsonb with another key order", () => {
    expect(hashEvent(event({ after: { b: 1, a: 2 } }))).toBe(hashEvent(event({ after: { a: 2, b: 1 } })));
  });

  it("in version 2 recomputes from the hash before it and the content hash alone; version 1 covers the content itself", () => {
    const prevHash = "ab".repeat(32);
    const v2 = event({ prevHash });
    const content = createHash("sha256").update(canonicalEvent(v2), "utf8").digest("hex");
    expect(contentHash(v2)).toBe(content);
    expect(hashEvent(v2)).toBe(createHash("sha256").update(Buffer.from(prevHash, "hex")).update(Buffer.from(content, "hex")).digest("hex"));
    expect(linkHash(prevHash, content)).toBe(hashEvent(v2));
    const v1 = event({ prevHash, chainVersion: 1 });
    expect(canonicalEvent(v1)).toContain('"v":1}');
    expect(canonicalEvent(v2)).toContain('"v":2}');
    expect(hashEvent(v1)).toBe(createHash("sha256").update(Buffer.from(prevHash, "hex")).update(canonicalEvent(v1), "utf8").digest("hex"));
    // The version is part of what is hashed: the same event under the other rule is another hash.
    expect(hashEvent(v1)).not.toBe(hashEvent(v2));
  });

  it("has no rule for another version, and links only 32-byte hashes", () => {
    expect(hashEvent(event({ chainVersion: 3 }))).toBe("");
    expect(linkHash("ab".repeat(32), "cd".repeat(31))).toBe("");
    expect(linkHash("AB".repeat(32), "cd".repeat(32))).toBe("");
    expect(linkHash("ab".repeat(33), "cd".repeat(32))).toBe("");
  });
});

describe("canonical JSON of values that are not yet plain JSON", () => {
  it("hashes the same before and after a JSON round trip (what jsonb gives back)", () => {
    const raw = { at: new Date("2026-01-02T03:04:05.006Z"), skip: undefined, list: [1, undefined, "x"] };
    const roundTrip = JSON.parse(JSON.stringify(raw)) as unknown;
    expect(canonicalJson(raw)).toBe(canonicalJson(roundTrip));
    expect(hashEvent(event({ after: raw }))).toBe(hashEvent(event({ after: roundTrip })));
  });
});

describe("fast paths agree with the plain definitions", () => {
  // canonicalEvent skips JSON.stringify for strings that need no escaping, and hashEvent hashes through a reused
  // buffer; both must give exactly the bytes of the straightforward definition, for any text.
  const text = fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), fc.constantFrom('"', "\\", "\n", "\u2028", "é😀"));
  const optionalText = fc.option(text, { nil: null });
  const jsonValue = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
  const arbitraryEvent = fc.record({
    actorId: optionalText, actorLabel: text, actorType: text, applicationId: optionalText, customerId: optionalText, environmentId: optionalText,
    id: text, ip: optionalText, objectId: optionalText, objectType: text, releaseId: optionalText, requestId: optionalText, summary: text,
    type: text, userAgent: optionalText, before: jsonValue, after: jsonValue, data: jsonValue,
    seq: fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }),
    occurredAt: fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }),
    prevHash: fc.oneof(fc.constant(GENESIS_HASH), fc.stringMatching(/^[0-9a-f]{64}$/), text),
    chainVersion: fc.constantFrom(1, 2),
  });
  const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash("sha256")).digest();

  it("canonicalEvent matches the canonicalize package, hashEvent matches its version's rule computed the plain way", () => {
    fc.assert(
      fc.property(arbitraryEvent, (e) => {
        expect(canonicalEvent(e)).toBe(reference(e));
        const canonical = Buffer.from(reference(e)!, "utf8");
        const expected =
          e.chainVersion === 1
            ? sha256(Buffer.from(e.prevHash, "hex"), canonical).toString("hex")
            : /^[0-9a-f]{64}$/.test(e.prevHash)
              ? sha256(Buffer.from(e.prevHash, "hex"), sha256(canonical)).toString("hex")
              : "";
        expect(hashEvent(e)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  }, 30_000);

  it("writes any string, lone surrogates included, exactly as JSON.stringify does", () => {
    const anyUnit = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
    fc.assert(fc.property(anyUnit, (s) => canonicalJson(s) === JSON.stringify(s)), { numRuns: 2000 });
    const lone = event({ summary: "half \ud800 pair", actorId: "\udc00", chainVersion: 1 });
    expect(hashEvent(lone)).toBe(createHash("sha256").update(Buffer.from(lone.prevHash, "hex")).update(canonicalEvent(lone), "utf8").digest("hex"));
    expect(canonicalEvent(lone)).toContain('"summary":"half \\ud800 pair"');
  });
});

describe("strings as PostgreSQL stores them", () => {
  const anyUnit = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

  it("wellFormed is the string's UTF-8 read back (a lone surrogate becomes U+FFFD, pairs stay)", () => {
    fc.assert(fc.property(anyUnit, (s) => wellFormed(s) === viaUtf8(s)), { numRuns: 3000 });
    expect(wellFormed("a\ud83d\ude00b")).toBe("a😀b");
    expect(wellFormed("\udc00\ud800")).toBe("\ufffd\ufffd");
  });

  it("normalizeJson leaves no lone surrogate in strings or keys, and changes nothing else", () => {
    const value = fc.jsonValue({ maxDepth: 3 }).chain((v) =>
      fc.tuple(fc.constant(v), anyUnit).map(([x, s]) => ({ x, [s]: [s, { [s]: s }] })),
    );
    fc.assert(
      fc.property(value, (v) => {
        const n = normalizeJson(v);
        const text = JSON.stringify(n);
        expect(text).not.toMatch(/\\ud[89a-f]/i);
        // Every string (and key) as its UTF-8 reads back; nothing else changed.
        expect(n).toEqual(storedJson(JSON.parse(JSON.stringify(v))));
      }),
      { numRuns: 1000 },
    );
  });
});
