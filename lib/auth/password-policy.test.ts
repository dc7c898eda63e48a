import { describe, expect, it } from "vitest";
import { ZPassword } from "./password-policy";

const messageFor = (p: string) => {
  const r = ZPassword.safeParse(p);
  return r.success ? null : r.error.issues.map((i) => i.message);
};

describe("ZPassword", () => {
  it.each(["correct horse battery staple", "abcdefghijkl", "Tr0ub4dor&3xyz", "ünïcödé-pässwörd", "a1b2c3d4e5f6"])("accepts %j", (p) => {
    expect(messageFor(p)).toBeNull();
  });

  it("needs at least 12 characters", () => {
    expect(messageFor("abcdefghijk")).toEqual(["Use at least 12 characters."]);
    expect(messageFor("abcdefghijkl")).toBeNull();
    expect(messageFor("")).toContain("Use at least 12 characters.");
  });

  it("allows at most 256 characters", () => {
    const base = "abcdefghij";
    expect(messageFor(base.repeat(25) + "abcdef")).toBeNull(); // 256
    expect(messageFor(base.repeat(25) + "abcdefg")).toEqual(["Use at most 256 characters."]); // 257
  });

  it("refuses repetitive passwords (fewer than 5 distinct characters)", () => {
    expect(messageFor("aaaaaaaaaaaa")).toEqual(["Use a less repetitive password."]);
    expect(messageFor("abcdabcdabcd")).toEqual(["Use a less repetitive password."]);
    expect(messageFor("abcdeabcdeab")).toBeNull();
  });

  it("does not demand character classes (NIST 800-63B)", () => {
    expect(messageFor("all lower case words")).toBeNull();
  });

  it("refuses non-strings", () => {
    expect(ZPassword.safeParse(123456789012).success).toBe(false);
    expect(ZPassword.safeParse(undefined).success).toBe(false);
  });
});
