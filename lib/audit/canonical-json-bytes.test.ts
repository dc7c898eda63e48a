// writeCanonicalJsonText must write exactly canonicalJson(JSON.parse(text)) whenever it takes a text, in any
// layout, and never take one that JSON.parse refuses.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonText, jsonValue, storedJson } from "../../test/audit-events";
import { writeCanonicalJsonText } from "./canonical-json-bytes";
import { canonicalJson } from "./chain";
import { JsonBytes } from "./json-bytes";

const out = new JsonBytes();
/** The fast result for `text`, or null when it does not take it. */
function fast(text: string): string | null {
  const bytes = Buffer.from(text, "utf8");
  out.length = 0;
  return writeCanonicalJsonText(out, bytes, 0, bytes.length) ? out.buf.toString("utf8", 0, out.length) : null;
}
// The generic routine on the same bytes (the production code decodes them the same way when it falls back).
const generic = (text: string) => canonicalJson(JSON.parse(Buffer.from(text, "utf8").toString("utf8")) as unknown);

// ASCII keys without escapes: the shape the fast path must take (audit details look like this).
const asciiKey = fc.stringMatching(/^[a-zA-Z0-9_ $.\-]{0,8}$/);
const common: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: "grapheme", maxLength: 12 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(asciiKey, tie("value"), { maxKeys: 5 }),
  ),
})).value.map((v) => storedJson(JSON.parse(JSON.stringify(v))));

describe("canonical JSON from JSON text", () => {
  it("takes the common shapes in every layout and writes canonicalJson's result", () => {
    fc.assert(
      fc.property(common, fc.integer(), (v, seed) => {
        for (const layout of ["compact", "jsonb", "loose"] as const) {
          const text = jsonText(v, layout, seed);
          expect(fast(text)).toBe(generic(text));
        }
      }),
      { numRuns: 3000 },
    );
  }, 60_000);

  it("agrees with canonicalJson on any JSON it takes (other keys, escapes, numbers of every kind)", () => {
    fc.assert(
      fc.property(fc.oneof(jsonValue, fc.jsonValue()), fc.integer(), (v, seed) => {
        const value = JSON.parse(JSON.stringify(v)) as unknown;
        for (const layout of ["compact", "jsonb", "loose"] as const) {
          const text = jsonText(value, layout, seed);
          const f = fast(text);
          if (f !== null) expect(f).toBe(generic(text));
        }
      }),
      { numRuns: 3000 },
    );
  }, 60_000);

  it("never takes text that JSON.parse refuses, and agrees on whatever edited text it takes", () => {
    const edit = fc.tuple(fc.nat(), fc.constantFrom("", " ", ",", ":", "}", "]", "{", "[", '"', "\\", "0", "-", ".", "e", "1", "n", "\u0001", "\\u0041"));
    fc.assert(
      fc.property(common, fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean(), (v, edits, remove) => {
        let text = jsonText(v, "jsonb");
        for (const [at, piece] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + piece + text.slice(i + (remove ? 1 : 0));
        }
        const f = fast(text);
        let parsed: string | null = null;
        try {
          parsed = generic(text);
        } catch {
          parsed = null;
        }
        if (f !== null) expect(f).toBe(parsed);
      }),
      { numRuns: 5000 },
    );
  }, 60_000);

  it("writes numbers as ECMAScript does and strings as JSON.stringify does", () => {
    for (const text of ["-0", "0", "1.50", "1e21", "1E+2", "-1.5e-7", "123456789012345678", "0.1", "1e400", "-1e400", '"\\u00e9\\/\\ud83d\\ude00"', '"\\u2028"', "[1.0,2e0]"]) {
      expect(fast(text)).toBe(generic(text));
    }
  });

  it("leaves to the generic routine what it does not take", () => {
    for (const text of ['{"a":1,"a":2}', '{"é":1}', '{"\\u0061":1}', "[".repeat(40) + "]".repeat(40), "", "nul", "01", "1.", "[1,]", '{"a" 1}', "tru"]) {
      expect(fast(text)).toBeNull();
    }
  });
});
