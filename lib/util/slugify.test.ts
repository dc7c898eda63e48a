import { describe, expect, it } from "vitest";
import { slugify } from "./slugify";

describe("slugify", () => {
  it.each([
    ["Shop Frontend!", "shop-frontend"],
    ["QA", "qa"],
    ["Acceptance 2", "acceptance-2"],
    ["  --Hello,   World--  ", "hello-world"],
    ["a_b.c/d", "a-b-c-d"],
    ["Café Müller", "cafe-muller"],
    ["Crème Brûlée", "creme-brulee"],
    ["ﬁnance", "finance"], // NFKD turns the ligature into two letters
    ["ACME Corp. (EU)", "acme-corp-eu"],
  ])("%j -> %j", (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });

  it("falls back to 'item' when nothing URL-safe is left", () => {
    expect(slugify("")).toBe("item");
    expect(slugify("!!!")).toBe("item");
    expect(slugify("日本語")).toBe("item");
  });

  it("keeps at most 48 characters and never ends in a hyphen after the cut", () => {
    const long = slugify("a".repeat(100));
    expect(long).toBe("a".repeat(48));
    // the 48th character would be a hyphen: it is dropped
    const cut = slugify(`${"b".repeat(47)} tail`);
    expect(cut).toBe("b".repeat(47));
    expect(cut.endsWith("-")).toBe(false);
  });

  it("only ever produces lower-case letters, digits and single inner hyphens", () => {
    for (const input of ["Release Gate 2.0", "x -- y", "Ünïcödé Näme", "tab\tand\nnewline", "#1 Customer"]) {
      expect(slugify(input)).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
  });

  it("is idempotent", () => {
    for (const input of ["Shop Frontend!", "Café Müller", "x".repeat(60)]) {
      expect(slugify(slugify(input))).toBe(slugify(input));
    }
  });
});
