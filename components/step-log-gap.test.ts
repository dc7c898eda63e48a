import { describe, expect, it } from "vitest";
import { describeLogGap } from "./step-log-gap";

describe("describeLogGap", () => {
  it("names the lines and why they are not shown", () => {
    expect(describeLogGap({ fromSeq: 2, toSeq: 4, fromLine: 6, toLine: 19, reason: "dropped" })).toBe(
      "Lines 6–19 were lost: the agent's buffer filled while it could not reach the control plane.",
    );
    expect(describeLogGap({ fromSeq: 6, toSeq: 6, fromLine: 22, toLine: 24, reason: "pending" })).toBe(
      "Lines 22–24 have not arrived yet: the agent sends what it kept once it reaches the control plane.",
    );
    expect(describeLogGap({ fromSeq: 6, toSeq: 6, fromLine: 22, toLine: 22, reason: "missing" })).toBe(
      "Line 22 never arrived: the agent may have restarted or lost its connection.",
    );
  });

  it("says what it can when line numbers are unknown (older agents)", () => {
    expect(describeLogGap({ fromSeq: 1, toSeq: 2, fromLine: 2, toLine: null, reason: "missing" })).toBe(
      "Lines from 2 on never arrived: the agent may have restarted or lost its connection.",
    );
    expect(describeLogGap({ fromSeq: 1, toSeq: 2, fromLine: null, toLine: null, reason: "dropped" })).toBe(
      "Part of the log (chunks 1–2) was lost: the agent's buffer filled while it could not reach the control plane.",
    );
    expect(describeLogGap({ fromSeq: 3, toSeq: 3, fromLine: null, toLine: null, reason: "pending" })).toBe(
      "Part of the log (chunk 3) has not arrived yet: the agent sends what it kept once it reaches the control plane.",
    );
  });
});
