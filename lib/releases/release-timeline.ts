// A release's history as people read it, from the facts kept elsewhere: the deployments that carried it (or took
// it away again) and the audit record's release-level events (uploaded, and whatever decisions are recorded about
// it). Pure, so its wording and order are unit-tested (release-timeline.test.ts).
import { z } from "zod";
import { formatBytes } from "../storage/format-bytes";
import { releaseLabel } from "../deployments/release-label";

export type TimelineTone = "gray" | "green" | "amber" | "red" | "blue";

export interface TimelineEntry {
  /** Stable key for lists. */
  key: string;
  at: Date;
  title: string;
  /** Who did it (a person, or a pipeline token's label). */
  actor: string | null;
  detail: string | null;
  tone: TimelineTone;
  /** Where to read more (a deployment's page). */
  href: string | null;
}

export interface TimelineDeployment {
  id: string;
  kind: "DEPLOY" | "REVERT";
  status: string;
  environment: { name: string };
  /** Null for a revert to the builds the servers ran before Releasegate. */
  release: { id: string; version: string } | null;
  previousRelease: { id: string; version: string } | null;
  requestedBy: { name: string } | null;
  reason: string;
  failureReason: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface TimelineAuditEvent {
  id: string;
  type: string;
  occurredAt: Date;
  actorLabel: string;
  summary: string;
  /** The event's after-state; for RELEASE_CREATED the artifact's file name, size and digest. */
  after?: unknown;
}

/**
 * Audit events of a release that its deployments already tell better (the deployment row carries the outcome;
 * its events are the steps towards it), and denials, which are about a person rather than the release.
 */
const TOLD_BY_DEPLOYMENTS = /^(DEPLOYMENT_|REVERT_)|^PERMISSION_DENIED$/;

const OUTCOME: Record<string, { word: string; tone: TimelineTone }> = {
  SCHEDULED: { word: "scheduled", tone: "gray" },
  QUEUED: { word: "queued", tone: "blue" },
  RUNNING: { word: "in progress", tone: "blue" },
  ROLLING_BACK: { word: "rolling back", tone: "amber" },
  SUCCEEDED: { word: "succeeded", tone: "green" },
  FAILED: { word: "failed", tone: "red" },
  CANCELLED: { word: "cancelled", tone: "gray" },
};

export function buildReleaseTimeline(releaseId: string, facts: { deployments: TimelineDeployment[]; events: TimelineAuditEvent[] }): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const e of facts.events) {
    if (TOLD_BY_DEPLOYMENTS.test(e.type)) continue;
    entries.push({
      key: `event-${e.id}`,
      at: e.occurredAt,
      title: e.type === "RELEASE_CREATED" ? "Uploaded" : sentence(e.summary),
      actor: e.actorLabel,
      detail: e.type === "RELEASE_CREATED" ? uploadDetail(e) : null,
      tone: e.type === "RELEASE_CREATED" ? "blue" : /REJECT/.test(e.type) ? "red" : "green",
      href: null,
    });
  }
  for (const d of facts.deployments) {
    const outcome = OUTCOME[d.status] ?? { word: d.status.toLowerCase(), tone: "gray" as const };
    const env = d.environment.name;
    let title: string;
    if (d.kind === "DEPLOY" && d.release?.id === releaseId) title = `Deployed to ${env}: ${outcome.word}`;
    else if (d.kind === "REVERT" && d.release?.id === releaseId) title = `${env} reverted to this release${d.previousRelease ? ` from ${d.previousRelease.version}` : ""}: ${outcome.word}`;
    else if (d.kind === "REVERT" && d.previousRelease?.id === releaseId) title = `Reverted in ${env} to ${releaseLabel(d.release)}: ${outcome.word}`;
    else continue;
    const notes = [d.reason && `Reason: ${d.reason}`, d.status === "FAILED" || d.status === "CANCELLED" ? d.failureReason : null].filter((x): x is string => !!x);
    entries.push({
      key: `deployment-${d.id}`,
      at: d.finishedAt ?? d.createdAt,
      title,
      actor: d.requestedBy?.name ?? null,
      detail: notes.length ? notes.join(" · ") : null,
      // Taking this release out of an environment is worth noticing even when the revert itself went well.
      tone: d.kind === "REVERT" && d.previousRelease?.id === releaseId && d.status === "SUCCEEDED" ? "amber" : outcome.tone,
      href: `/deployments/${d.id}`,
    });
  }
  // Oldest first, as a history reads; ties keep upload before deployments.
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime());
}

const ZUploadedSchema = z.object({ fileName: z.string(), size: z.number(), sha256: z.string() });

/** "webshop-1.4.0.tar.gz · 48 MiB · sha256 0a1b2c3d4e5f…", or the event's summary for an older record. */
function uploadDetail(e: TimelineAuditEvent): string {
  const a = ZUploadedSchema.safeParse(e.after);
  return a.success ? `${a.data.fileName} · ${formatBytes(a.data.size)} · sha256 ${a.data.sha256.slice(0, 12)}…` : sentence(e.summary);
}

/** "uploaded Webshop 1.4.0 (…)" → "Uploaded Webshop 1.4.0 (…)". */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
