import { describe, expect, it } from "vitest";
import { OFFLINE_AFTER_MS } from "../agents/heartbeat-timing";
import { hasDrift, targetHealth } from "./target-health";

const now = new Date("2026-11-22T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);

describe("targetHealth", () => {
  it("is online while heartbeats arrive, offline within 45 s of silence", () => {
    expect(targetHealth({ status: "ACTIVE", lastSeenAt: ago(9_000) }, now)).toBe("online");
    expect(targetHealth({ status: "ACTIVE", lastSeenAt: ago(OFFLINE_AFTER_MS) }, now)).toBe("offline");
    expect(OFFLINE_AFTER_MS).toBeLessThanOrEqual(45_000);
    expect(targetHealth({ status: "ACTIVE", lastSeenAt: null }, now)).toBe("offline");
  });

  it("names servers waiting for their agent, and revoked ones, whatever their last heartbeat", () => {
    expect(targetHealth({ status: "PENDING", lastSeenAt: null }, now)).toBe("awaiting-agent");
    expect(targetHealth({ status: "REVOKED", lastSeenAt: ago(1000) }, now)).toBe("revoked");
  });
});

describe("hasDrift", () => {
  it("flags a node that runs something else than the environment's last successful release", () => {
    expect(hasDrift("a", "a")).toBe(false);
    expect(hasDrift("b", "a")).toBe(true);
    expect(hasDrift(null, "a")).toBe(true);
    expect(hasDrift("a", null)).toBe(false);
  });
});
