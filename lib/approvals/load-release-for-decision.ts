import "server-only";
import type { UserActor } from "../auth/actor";
import { can } from "../auth/permissions";
import type { Tx } from "../db/client";
import { notFound } from "../errors";
import { liveReleaseOf } from "../deployments/live-release";
import type { AcceptanceRuns, LatestVerdict } from "./decision-rules";

/**
 * A release with its application's lifecycle, locked for the rest of the transaction, if the actor may see it.
 * Outside the actor's tenant the answer is NOT_FOUND, the same as for an id that does not exist. The row lock makes
 * verdicts and approvals on one release take turns, so each sees the other's outcome (two clicks cannot both win,
 * and two approvals cannot both miss that together they reach the threshold).
 */
export async function loadReleaseForDecision(tx: Tx, actor: UserActor, releaseId: string) {
  const locked = await tx.$queryRaw<{ applicationId: string }[]>`SELECT "applicationId" FROM "Release" WHERE id = ${releaseId}::uuid FOR UPDATE`;
  const applicationId = locked[0]?.applicationId;
  if (!applicationId || !can(actor, "application.view", applicationId)) throw notFound("Release");
  return tx.release.findUniqueOrThrow({
    where: { id: releaseId },
    include: { application: { include: { environments: { orderBy: { position: "asc" } } } } },
  });
}

/** The last verdict given on these exact bytes by a customer member of the application (as the policy counts them). */
export async function latestVerdictOn(tx: Tx, release: { id: string; applicationId: string; artifactSha256: string }): Promise<LatestVerdict | null> {
  const v = await tx.acceptanceVerdict.findFirst({
    where: { releaseId: release.id, artifactSha256: release.artifactSha256 },
    orderBy: { createdAt: "desc" },
    include: { user: { select: { name: true } } },
  });
  return v ? { verdict: v.verdict, userName: v.user.name, reason: v.reason } : null;
}

/** What the acceptance environment runs now, seen from `releaseId` (decision-rules.ts: only that can be accepted). */
export async function acceptanceRunsFor(tx: Tx, acceptanceId: string, releaseId: string): Promise<AcceptanceRuns> {
  const live = await liveReleaseOf(tx, acceptanceId);
  if (!live) return null;
  if (live.releaseId === releaseId) return "this";
  const other = await tx.release.findUnique({ where: { id: live.releaseId }, select: { version: true } });
  return other ? { version: other.version } : null;
}
