// Who may give a verdict or an approval on a release now, and if not, why: pure rules over loaded facts, used by
// the domain functions (which refuse with exactly these messages) and by the release's decision panel (which shows
// the same "why not" instead of a button). Tenant scoping (NOT_FOUND) and the permission matrix come first, in the
// domain functions; these rules decide the rest. Exhaustively tested in decision-rules.test.ts.
import type { ErrorCode } from "../errors";
import type { Role } from "../db/generated/enums";
import { REJECTED_NEXT } from "../releases/policy";
import { sentence } from "../util/text";

export type ReleaseStatusName = "CANDIDATE" | "ACCEPTED" | "REJECTED" | "APPROVED" | "RELEASED" | "WITHDRAWN" | "REVERTED" | "SUPERSEDED";

/**
 * FORBIDDEN: never this person's to decide. PRECONDITION_FAILED: not yet, or no longer, decidable (the message says
 * what it waits for). CONFLICT: already decided, or moved on past the decision: the review page shows that state
 * itself (components/release-decisions.tsx), so it gives no warning for it.
 */
export interface Refusal {
  code: Extract<ErrorCode, "FORBIDDEN" | "CONFLICT" | "PRECONDITION_FAILED">;
  message: string;
}

export interface DecisionRelease {
  version: string;
  status: ReleaseStatusName;
  uploadedById: string;
}

export interface LatestVerdict {
  verdict: "ACCEPTED" | "REJECTED";
  userName: string;
  reason: string;
}

export interface VerdictFacts {
  verdict: "ACCEPTED" | "REJECTED";
  actorId: string;
  release: DecisionRelease;
  /** Where customers test (lib/approvals/stages.ts); null when the lifecycle has no such stage. */
  acceptance: { name: string } | null;
  /** A deployment of this release to the acceptance environment succeeded. */
  deployedToAcceptance: boolean;
  /** What the acceptance environment runs now: this release, another one, or nothing of this application. */
  acceptanceRuns: AcceptanceRuns;
  /** The last verdict on these bytes, for the messages. */
  latestVerdict: LatestVerdict | null;
}

export type AcceptanceRuns = "this" | { version: string } | null;

/** The statuses a verdict may start from: acceptance only of a candidate; a rejection also stops an accepted release. */
export const VERDICT_FROM: Record<VerdictFacts["verdict"], readonly ReleaseStatusName[]> = {
  ACCEPTED: ["CANDIDATE"],
  // A problem found after accepting, before the release is live: rejecting it stops the promotion.
  REJECTED: ["CANDIDATE", "ACCEPTED", "APPROVED"],
};

export function separationOfDutiesMessage(version: string): string {
  return `You uploaded ${version}, so you can neither accept nor approve it: another person must (separation of duties).`;
}

function statusRefusal(r: DecisionRelease, latest: LatestVerdict | null): Refusal {
  const v = r.version;
  switch (r.status) {
    case "REJECTED":
      return { code: "CONFLICT", message: `${sentence(`${v} was rejected${latest?.verdict === "REJECTED" ? ` by ${latest.userName}: ${latest.reason}` : ""}`)} ${REJECTED_NEXT}` };
    case "ACCEPTED":
      return { code: "CONFLICT", message: `${v} was already accepted${latest?.verdict === "ACCEPTED" ? ` by ${latest.userName}` : ""}.` };
    case "APPROVED":
      return { code: "CONFLICT", message: `${v} is already accepted and approved.` };
    case "RELEASED":
      return { code: "CONFLICT", message: `${v} is live in production.` };
    case "REVERTED":
      return { code: "CONFLICT", message: `${v} was live in production and was reverted.` };
    case "SUPERSEDED":
      return { code: "CONFLICT", message: `${v} was live in production and has been replaced by another release.` };
    case "WITHDRAWN":
      return { code: "CONFLICT", message: `${v} was withdrawn by its developers.` };
    case "CANDIDATE":
      return { code: "PRECONDITION_FAILED", message: `${v} needs a customer's acceptance first.` };
  }
}

/** Why the actor (who holds the customer role) may not give this verdict now; null = they may. */
export function verdictRefusal(f: VerdictFacts): Refusal | null {
  if (f.release.uploadedById === f.actorId) return { code: "FORBIDDEN", message: separationOfDutiesMessage(f.release.version) };
  if (!f.acceptance) {
    return { code: "PRECONDITION_FAILED", message: "This application has no acceptance stage before production: there is nowhere to test a release." };
  }
  if (!VERDICT_FROM[f.verdict].includes(f.release.status)) return statusRefusal(f.release, f.latestVerdict);
  if (!f.deployedToAcceptance) {
    return { code: "PRECONDITION_FAILED", message: `${f.release.version} has not been deployed successfully to ${f.acceptance.name} yet: it can be judged once it runs there.` };
  }
  // An acceptance vouches for what customers can test now (the home page and the inbox ask only for that): not for a
  // release replaced there since, or reverted away from. A rejection stays possible: it only stops a promotion.
  if (f.verdict === "ACCEPTED" && f.acceptanceRuns !== "this") {
    const now = f.acceptanceRuns ? ` (it runs ${f.acceptanceRuns.version} now)` : "";
    return { code: "PRECONDITION_FAILED", message: `${f.release.version} no longer runs in ${f.acceptance.name}${now}: only the release running there can be accepted.` };
  }
  return null;
}

export interface ApprovalFacts {
  actorId: string;
  /** The actor's roles on the release's application. */
  actorRoles: ReadonlySet<Role>;
  release: DecisionRelease;
  /** The environment approvals are for (lib/approvals/stages.ts). */
  environment: { name: string; requiredApprovals: number; approverRoles: readonly Role[] } | null;
  /** The actor already approved these bytes for that environment. */
  alreadyApproved: boolean;
  latestVerdict: LatestVerdict | null;
}

const ROLE_WORDS: Record<Role, string> = { DEVELOPER: "developers", CUSTOMER: "customer testers", APPROVER: "approvers", OPS: "ops", AUDITOR: "auditors" };

/** Why the actor may not approve the release now; null = they may. */
export function approvalRefusal(f: ApprovalFacts): Refusal | null {
  const env = f.environment;
  if (!env || env.requiredApprovals === 0) {
    return { code: "PRECONDITION_FAILED", message: `${env?.name ?? "Production"} needs no approvals: an accepted release can be promoted as it is.` };
  }
  if (!env.approverRoles.some((r) => f.actorRoles.has(r))) {
    const who = env.approverRoles.map((r) => ROLE_WORDS[r]).join(" or ") || "nobody";
    return { code: "FORBIDDEN", message: `Only ${who} may approve releases for ${env.name}.` };
  }
  if (f.release.uploadedById === f.actorId) return { code: "FORBIDDEN", message: separationOfDutiesMessage(f.release.version) };
  if (f.release.status !== "ACCEPTED") return statusRefusal(f.release, f.latestVerdict);
  if (f.alreadyApproved) return { code: "CONFLICT", message: `You already approved ${f.release.version} for ${env.name}.` };
  return null;
}
