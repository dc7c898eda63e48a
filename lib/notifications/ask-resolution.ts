// Whether what a notification asked of its recipient is still needed, from the release's current state: a request
// to test, approve, promote or fix resolves itself once it is done (by them or by someone else) or once it no longer
// makes sense (rejected, withdrawn, replaced by a newer release). Pure, so every rule is unit-tested
// (ask-resolution.test.ts); the facts are loaded by resolve-asks.ts.
import type { NotificationAsk, ReleaseStatus } from "../db/generated/enums";

export interface AskFacts {
  release: { id: string; version: string; status: ReleaseStatus; createdAt: Date };
  /** The last verdict on the release's current bytes. */
  latestVerdict: { verdict: "ACCEPTED" | "REJECTED"; by: string } | null;
  /** Approvals of the current bytes for the environment that needs them: who, and how many are needed. */
  approvals: { userIds: ReadonlySet<string>; required: number };
  /** What the application's acceptance environment runs now. */
  acceptanceRuns: { id: string; version: string; environment: string } | null;
  /** What the application's production runs now. */
  productionRuns: { id: string; version: string; createdAt: Date } | null;
  /** The application's newest release, when it is newer than this one. */
  newerUpload: { version: string } | null;
}

export type AskResolution = { state: "done" | "moot"; note: string } | null;

/** How a release that reached production stands there now, for an ask about getting it there. */
const IN_PRODUCTION: Partial<Record<ReleaseStatus, { approve: NonNullable<AskResolution>; promote: NonNullable<AskResolution> }>> = {
  RELEASED: { approve: { state: "done", note: "Live in production." }, promote: { state: "done", note: "Live in production." } },
  // Taken out again: nothing is left to approve; the promotion itself did happen.
  REVERTED: { approve: { state: "moot", note: "Reverted in production." }, promote: { state: "done", note: "Promoted, then reverted in production." } },
  SUPERSEDED: { approve: { state: "moot", note: "Was live in production, since replaced." }, promote: { state: "done", note: "Promoted, since replaced in production." } },
};

/** Null while the ask still stands; otherwise whether it was done or became moot, in a short sentence. */
export function resolveAsk(ask: NotificationAsk, recipientId: string, f: AskFacts): AskResolution {
  const r = f.release;
  if (r.status === "WITHDRAWN") return { state: "moot", note: `${r.version} was withdrawn.` };
  // Production already runs a newer release: testing, approving or promoting this one is no longer on the way there.
  const overtaken = f.productionRuns && f.productionRuns.id !== r.id && f.productionRuns.createdAt > r.createdAt ? f.productionRuns : null;
  const rejected = r.status === "REJECTED" ? { state: "moot" as const, note: f.latestVerdict?.verdict === "REJECTED" ? `Rejected by ${f.latestVerdict.by}.` : "Rejected." } : null;
  switch (ask) {
    case "TEST":
      if (f.latestVerdict) return { state: "done", note: `${f.latestVerdict.verdict === "ACCEPTED" ? "Accepted" : "Rejected"} by ${f.latestVerdict.by}.` };
      if (overtaken) return { state: "moot", note: `Production already runs ${overtaken.version}.` };
      if (f.acceptanceRuns?.id !== r.id) {
        return { state: "moot", note: f.acceptanceRuns ? `${f.acceptanceRuns.environment} now runs ${f.acceptanceRuns.version}.` : `${r.version} no longer runs in acceptance.` };
      }
      return null;
    case "APPROVE":
      if (f.approvals.userIds.has(recipientId)) return { state: "done", note: "You approved it." };
      if (rejected) return rejected;
      if (IN_PRODUCTION[r.status]) return IN_PRODUCTION[r.status]!.approve;
      if (r.status === "APPROVED" || (f.approvals.required > 0 && f.approvals.userIds.size >= f.approvals.required)) {
        return { state: "done", note: `Approved (${f.approvals.userIds.size} of ${f.approvals.required}).` };
      }
      if (overtaken) return { state: "moot", note: `Production already runs ${overtaken.version}.` };
      return null;
    case "PROMOTE":
      if (IN_PRODUCTION[r.status]) return IN_PRODUCTION[r.status]!.promote;
      if (rejected) return rejected;
      if (overtaken) return { state: "moot", note: `Production already runs ${overtaken.version}.` };
      return null;
    case "FIX":
      if (f.newerUpload) return { state: "done", note: `${f.newerUpload.version} was uploaded since.` };
      return null;
  }
}
