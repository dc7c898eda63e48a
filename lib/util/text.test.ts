import { describe, expect, it } from "vitest";
import { plural, sentence } from "./text";

describe("plural", () => {
  it("puts the noun in the number of the count", () => {
    expect(plural(1, "node")).toBe("1 node");
    expect(plural(0, "node")).toBe("0 nodes");
    expect(plural(3, "node")).toBe("3 nodes");
    expect(plural(2, "person", "people")).toBe("2 people");
    // Sequence numbers and counts of the audit record are bigints.
    expect(plural(1n, "event")).toBe("1 event");
    expect(plural(80n, "event")).toBe("80 events");
  });
});

describe("sentence", () => {
  it("ends text people typed with exactly one full stop, keeping their own ending", () => {
    expect(sentence("The totals do not balance")).toBe("The totals do not balance.");
    expect(sentence("The totals do not balance.")).toBe("The totals do not balance.");
    expect(sentence("The totals do not balance..  ")).toBe("The totals do not balance.");
    expect(sentence("Why does it crash?")).toBe("Why does it crash?");
    expect(sentence("It crashes!")).toBe("It crashes!");
    expect(sentence("It waits…")).toBe("It waits…");
    expect(sentence("“Quoted.”")).toBe("“Quoted.”");
  });
});
