import { describe, expect, it } from "vitest";
import { buildReleaseTimeline, type TimelineDeployment, type TimelineAuditEvent } from "./release-timeline";

const R = "rel-140";
const at = (minute: number) => new Date(Date.UTC(2026, 10, 22, 9, minute));
const event = (over: Partial<TimelineAuditEvent>): TimelineAuditEvent => ({
  id: "e1",
  type: "RELEASE_CREATED",
  occurredAt: at(0),
  actorLabel: "Ana Developer",
  summary: "uploaded Webshop 1.4.0 (48 MiB, sha256 0a1b2c3d4e5f…)",
  after: { version: "1.4.0", sha256: `0a1b2c3d4e5f${"0".repeat(52)}`, size: 48 * 1024 * 1024, fileName: "webshop-1.4.0.tar.gz", needsMigration: false },
  ...over,
});
const deployment = (over: Partial<TimelineDeployment>): TimelineDeployment => ({
  id: "d1",
  kind: "DEPLOY",
  status: "SUCCEEDED",
  environment: { name: "QA" },
  release: { id: R, version: "1.4.0" },
  previousRelease: { id: "rel-130", version: "1.3.0" },
  requestedBy: { name: "Ana Developer" },
  reason: "",
  failureReason: null,
  createdAt: at(5),
  finishedAt: at(6),
  ...over,
});

describe("buildReleaseTimeline", () => {
  it("tells upload, deployments with their outcome, and reverts in time order", () => {
    const timeline = buildReleaseTimeline(R, {
      events: [
        event({}),
        event({ id: "e2", type: "DEPLOYMENT_REQUESTED", occurredAt: at(5), summary: "requested a deploy" }),
        event({ id: "e3", type: "DEPLOYMENT_SUCCEEDED", occurredAt: at(6), summary: "succeeded" }),
        event({ id: "e4", type: "PERMISSION_DENIED", occurredAt: at(7), summary: "was refused" }),
      ],
      deployments: [
        deployment({}),
        deployment({ id: "d2", environment: { name: "Production" }, status: "FAILED", reason: "Sprint 42", failureReason: "Health check failed on web-2", createdAt: at(10), finishedAt: at(12), requestedBy: { name: "Olga Ops" } }),
        deployment({ id: "d3", environment: { name: "Production" }, createdAt: at(20), finishedAt: null, status: "RUNNING" }),
        deployment({ id: "d4", kind: "REVERT", environment: { name: "Production" }, release: { id: "rel-130", version: "1.3.0" }, previousRelease: { id: R, version: "1.4.0" }, reason: "Checkout errors", createdAt: at(30), finishedAt: at(31), requestedBy: { name: "Olga Ops" } }),
        deployment({ id: "d5", kind: "REVERT", environment: { name: "QA" }, previousRelease: { id: "rel-150", version: "1.5.0" }, createdAt: at(40), finishedAt: at(41) }),
        // Another release's deployment that merely replaced this one is not part of this release's story.
        deployment({ id: "d6", release: { id: "rel-150", version: "1.5.0" }, previousRelease: { id: R, version: "1.4.0" }, createdAt: at(35), finishedAt: at(36) }),
      ],
    });
    expect(timeline.map((e) => [e.title, e.actor, e.detail, e.tone, e.href])).toEqual([
      ["Uploaded", "Ana Developer", "webshop-1.4.0.tar.gz · 48 MiB · sha256 0a1b2c3d4e5f…", "blue", null],
      ["Deployed to QA: succeeded", "Ana Developer", null, "green", "/deployments/d1"],
      ["Deployed to Production: failed", "Olga Ops", "Reason: Sprint 42 · Health check failed on web-2", "red", "/deployments/d2"],
      ["Deployed to Production: in progress", "Ana Developer", null, "blue", "/deployments/d3"],
      ["Reverted in Production to 1.3.0: succeeded", "Olga Ops", "Reason: Checkout errors", "amber", "/deployments/d4"],
      ["QA reverted to this release from 1.5.0: succeeded", "Ana Developer", null, "green", "/deployments/d5"],
    ]);
    expect(timeline[3]!.at).toEqual(at(20));
  });

  it("shows release-level decisions from the audit record by their summary, rejections in red", () => {
    const timeline = buildReleaseTimeline(R, {
      deployments: [],
      events: [
        event({ id: "a", type: "RELEASE_ACCEPTED", occurredAt: at(1), actorLabel: "Carla Customer", summary: "accepted Webshop 1.4.0 in Acceptance" }),
        event({ id: "b", type: "RELEASE_REJECTED", occurredAt: at(2), actorLabel: "Carla Customer", summary: "rejected Webshop 1.4.0: totals wrong" }),
      ],
    });
    expect(timeline.map((e) => [e.title, e.actor, e.tone])).toEqual([
      ["Accepted Webshop 1.4.0 in Acceptance", "Carla Customer", "green"],
      ["Rejected Webshop 1.4.0: totals wrong", "Carla Customer", "red"],
    ]);
  });

  it("keeps the upload first when a deployment finished in the same instant", () => {
    const timeline = buildReleaseTimeline(R, { events: [event({ occurredAt: at(6) })], deployments: [deployment({ finishedAt: at(6) })] });
    expect(timeline.map((e) => e.title)).toEqual(["Uploaded", "Deployed to QA: succeeded"]);
  });

  it("falls back to the event's summary for an upload recorded without the artifact's details", () => {
    const [uploaded] = buildReleaseTimeline(R, { events: [event({ after: null })], deployments: [] });
    expect(uploaded?.detail).toBe("Uploaded Webshop 1.4.0 (48 MiB, sha256 0a1b2c3d4e5f…)");
  });
});
