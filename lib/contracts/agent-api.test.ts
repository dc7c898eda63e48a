// What agents send is kept as sent, except the one character PostgreSQL text cannot hold: a hook that prints a NUL
// must not make its step's log, its failure message, or the node's heartbeat be refused.
import { describe, expect, it } from "vitest";
import { ZStepLogRequestSchema, ZStepReportSchema } from "./agent-api";

const leaseId = "6f1d3c3e-0f5e-4a57-9d39-6a0e4f1c2b3a";

describe("text from an agent", () => {
  it("a log chunk with NUL characters keeps every other byte, each NUL shown as U+FFFD", () => {
    const parsed = ZStepLogRequestSchema.parse({ leaseId, chunks: [{ seq: 0, text: "binary\u0000output\u0000\n" }] });
    expect(parsed.chunks[0]!.text).toBe("binary\uFFFDoutput\uFFFD\n");
  });

  it("a failure message and phase with a NUL are kept the same way", () => {
    const parsed = ZStepReportSchema.parse({ leaseId, status: "FAILED", phase: "start\u0000", message: "hook said \u0000" });
    expect(parsed).toMatchObject({ phase: "start\uFFFD", message: "hook said \uFFFD" });
  });
});
