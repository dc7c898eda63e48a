import { describe, expect, it } from "vitest";
import { OFFLINE_AFTER_MS } from "../agents/heartbeat-timing";
import { hasDrift, targetHealth, whatRuns } from "./target-health";

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

describe("whatRuns", () => {
  const t = (over: Partial<Parameters<typeof whatRuns>[0]>) => ({ status: "ACTIVE" as const, lastSeenAt: now, liveRelease: null, currentKind: null, currentPath: null, currentRevision: null, ...over });

  it("names the release a server runs", () => {
    expect(whatRuns(t({ liveRelease: { version: "1.4.0" }, currentKind: "release", currentPath: "releases/1.4.0-abc" }))).toEqual({ text: "runs 1.4.0", outside: false });
    expect(whatRuns(t({ liveRelease: { version: "1.4.0" } }))).toEqual({ text: "runs 1.4.0", outside: false });
  });

  it("says what a server taken over from another tool (or changed by one) runs, not 'no release installed'", () => {
    expect(whatRuns(t({ currentKind: "foreign", currentPath: "releases/20240301090000", currentRevision: "4f2a9c1" }))).toEqual({
      text: "runs releases/20240301090000 (revision 4f2a9c1), installed outside Releasegate",
      outside: true,
    });
    expect(whatRuns(t({ currentKind: "foreign", currentPath: "/opt/shop" }))).toEqual({ text: "runs /opt/shop, installed outside Releasegate", outside: true });
    expect(whatRuns(t({ currentKind: "directory", currentRevision: "7.1" }))).toEqual({ text: "runs files copied into current/ (version 7.1), installed outside Releasegate", outside: true });
    expect(whatRuns(t({ currentKind: "missing", currentPath: "releases/gone" }))).toEqual({ text: "current points at releases/gone, which is not there: the server serves nothing from it", outside: true });
    expect(whatRuns(t({ currentKind: "release", currentRevision: "9.9.9" }))).toEqual({ text: "runs 9.9.9, a build that is not a release of this application", outside: true });
  });

  it("says 'no release installed' only when the agent says so, and what it cannot know otherwise", () => {
    expect(whatRuns(t({ currentKind: "none" }))).toEqual({ text: "no release installed", outside: false });
    expect(whatRuns(t({}))).toEqual({ text: "no Releasegate release installed (this agent version does not report other builds)", outside: false });
    expect(whatRuns(t({ status: "PENDING", lastSeenAt: null }))).toEqual({ text: "not reported yet", outside: false });
  });
});

