// What the UI says about a server at a glance. Pure, so the thresholds are unit-tested (target-health.test.ts).
import { OFFLINE_AFTER_MS } from "../agents/heartbeat-timing";

export type TargetHealth = "online" | "offline" | "awaiting-agent" | "revoked";

export function targetHealth(t: { status: "PENDING" | "ACTIVE" | "REVOKED"; lastSeenAt: Date | null }, now: Date): TargetHealth {
  if (t.status === "REVOKED") return "revoked";
  if (t.status === "PENDING") return "awaiting-agent";
  return t.lastSeenAt && now.getTime() - t.lastSeenAt.getTime() < OFFLINE_AFTER_MS ? "online" : "offline";
}

/** Drift: the node runs something other than what the environment last deployed successfully. */
export function hasDrift(liveReleaseId: string | null, expectedReleaseId: string | null): boolean {
  return expectedReleaseId !== null && liveReleaseId !== expectedReleaseId;
}
