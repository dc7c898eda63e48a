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

export interface RunsFacts {
  status: "PENDING" | "ACTIVE" | "REVOKED";
  lastSeenAt: Date | null;
  /** The release of this application the agent reported live. */
  liveRelease: { version: string } | null;
  /** What the agent reported `current` to be (lib/contracts/agent-api.ts ZCurrentReportSchema); null: not reported. */
  currentKind: string | null;
  currentPath: string | null;
  currentRevision: string | null;
}

/**
 * What a server runs, in the words of its server list: a release, or whatever another tool put there (a server
 * taken over by Releasegate, or changed behind its back), never "no release installed" unless the agent says so.
 * `outside`: it runs something Releasegate did not install.
 */
export function whatRuns(t: RunsFacts): { text: string; outside: boolean } {
  if (t.liveRelease) return { text: `runs ${t.liveRelease.version}`, outside: false };
  const revision = (word: string) => (t.currentRevision ? ` (${word} ${t.currentRevision})` : "");
  switch (t.currentKind) {
    case "none":
      return { text: "no release installed", outside: false };
    case "release":
      return { text: `runs ${t.currentRevision ?? "a build"}, a build that is not a release of this application`, outside: true };
    case "foreign":
      return { text: `runs ${t.currentPath ?? "a directory"}${revision("revision")}, installed outside Releasegate`, outside: true };
    case "directory":
      return { text: `runs files copied into current/${revision("version")}, installed outside Releasegate`, outside: true };
    case "missing":
      return { text: `current points at ${t.currentPath ?? "?"}, which is not there: the server serves nothing from it`, outside: true };
  }
  if (!t.lastSeenAt) return { text: "not reported yet", outside: false };
  return { text: "no Releasegate release installed (this agent version does not report other builds)", outside: false };
}
